/**
 * Install step: prepare the PGlite template so the first start of the embedded engine (and every
 * in-memory test database) skips initdb. Never fails the install: without a template PGlite
 * simply initialises the slow way.
 */
try {
  const { ensureTemplate, templatePath } = await import("../src/pglite-template.js");
  const started = Date.now();
  await ensureTemplate();
  console.log(`pglite template ready in ${Date.now() - started} ms (${templatePath})`);
} catch (error) {
  console.warn(`pglite template not prepared (${(error as Error).message}); the first start will run initdb`);
}
