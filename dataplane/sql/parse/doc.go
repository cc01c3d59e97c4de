// Package parse is KalamDB's SQL front end: it tokenises statements,
// classifies them, parses the KalamDB-specific statements (namespaces,
// tables, users) and DML into an AST, and rewrites PostgreSQL-flavoured
// queries into SQL for SQLite, which executes them over per-table virtual
// tables.
//
// Entry points:
//
//   - SplitStatements cuts a batch into statements.
//   - Parse parses one statement into a Statement (*CreateTable, *Insert,
//     *Select, ...). Queries come back as *Select holding the original
//     text.
//   - Rewrite turns a query (or an UPDATE/DELETE condition that the
//     executor has wrapped into a SELECT) into SQLite SQL, resolving every
//     table reference through a Resolver; it is the access-control
//     boundary between user SQL and SQLite.
//
// The package never touches storage, depends only on the standard library
// and never panics on any input; every error is an *Error carrying an API
// error code.
package parse
