// TypeDoc plugin for `npm run docs`: every symbol exported from an entry point (typeorm-signals,
// typeorm-signals/testing, typeorm-signals/jest) must have a doc comment with an @example. A
// missing one is a warning, and typedoc.json turns warnings into errors.
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const project = context.project;
    const modules = project.children?.some((c) => c.kindOf(ReflectionKind.Module)) ? project.children : [project];
    for (const module of modules) {
      for (const symbol of module.children ?? []) {
        // Re-exported from another entry point: documented where it is declared.
        if (symbol.kindOf(ReflectionKind.Reference)) continue;
        // A function's or method's comment lives on its signature(s).
        const comments = [symbol.comment, ...(symbol.signatures ?? []).map((s) => s.comment)].filter(Boolean);
        const where = `${module === project ? '' : `${module.name}: `}${symbol.name}`;
        if (comments.length === 0) app.logger.warn(`${where} has no doc comment`);
        else if (!comments.some((c) => c.blockTags.some((t) => t.tag === '@example'))) app.logger.warn(`${where} has no @example`);
      }
    }
  });
}
