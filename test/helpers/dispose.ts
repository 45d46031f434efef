// jest setupFiles: on Node 20, jest's sandbox (a vm context) lacks Symbol.dispose, which Node's
// main realm defines as Symbol.for('nodejs.dispose'); TypeScript's `using` helper reads it, so
// `using off = signal.connect(...)` needs it. Node >= 24 defines it in every realm.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('nodejs.dispose');
