// Package migration is the vocabulary of a flag-driven migration, shared
// by the engine (package flagmigrate) and by what reports on it or acts on
// its reports: the two [Side]s, the [Call] an operation makes, the
// [Stage]s and the four flags' [FlagState], the [Verdict] of a dual read,
// the reports ([StoreCall], [Comparison], [StoreState], [BrakeState]),
// the [RepairEntry] of a write that reached one store only with the
// [RepairLog] that keeps it, and the [Observer] that receives the reports.
//
// It holds no engine: packages that only speak this vocabulary (repairlog,
// backfill, otelmetrics, the flag adapters) import it rather than the
// engine, and it imports only the standard library and the event contract
// (package eventstore).
package migration
