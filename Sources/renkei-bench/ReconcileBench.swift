// `renkei-bench reconcile`: reconciliation (突合, issue 17) against the projection it rides on.
//
// The synthetic municipality of `renkei-bench replay` (registrations, key-linked assessments, matched
// library patrons, childcare with guardians, then moves, corrections and 更正), followed by a phase of
// life events that make findings: deaths (some of card holders), 転出 (some of enrolled children),
// withdrawn cards, children moved to another household, assessments naming 宛名番号 the registry never
// sent. The same parsed events are applied to two projections in turn, on this one thread:
// - baseline: the projection with no checks (`reconciliationChecks = []`): what ingest's projection
//   step costs without reconciliation;
// - measured: the projection with the five standard checks, evaluated after every event for the
//   persons it touched (what renkeid does in the commit of every batch).
// - amplified: every check four times over (same findings, four times the evaluation), because two
//   runs of the same work on a shared machine differ by a few per cent, as much as the checks cost.
// Only the `apply` calls are timed, in thread CPU time (CLOCK_THREAD_CPUTIME_ID: the machine's other
// load does not count directly). Reconciliation's cost lies between (amplified − baseline) ÷ 4 (a lower
// bound: the per-event bookkeeping is not multiplied) and measured − baseline (an upper bound within
// the run-to-run noise), see BENCHMARKS.md; the first is printed as its
// share of the projection's apply CPU (an upper bound of its share of all ingest CPU, which also
// validates, seals, hashes and writes SQLite), and as the events/s reconciliation alone keeps up with.
import Foundation
import Glibc
import RenkeiCore

enum ReconcileBench {
    static let options: [BenchOptions.Option] = [
        .number("--residents", default: 1_000_000, "residents of the synthetic municipality"),
        .number("--events", default: nil, "events of the base log before the life-event phase (default 2 x residents)"),
        .number("--life-per-mille", default: 20, "life events (deaths, 転出, withdrawals, …) per 1,000 residents"),
    ]

    static func run(_ arguments: [String]) {
        let options = BenchOptions.parseOrExit(arguments, command: "reconcile", options: Self.options)
        let residents = options.number("--residents")
        measure(
            residents: residents, events: options.given("--events") ?? residents * 2,
            lifePerMille: options.number("--life-per-mille"))
    }

    static func note(_ text: String) { FileHandle.standardError.write(Data("reconcile: \(text)\n".utf8)) }

    /// This thread's CPU time in seconds.
    static func threadCPU() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func measure(residents: Int, events: Int, lifePerMille: Int) {
        let wall = ContinuousClock()
        let began = wall.now
        var batches = ReplayBench.SyntheticLog(residents: residents, events: events, batch: 10_000, invalidEvery: 0).batches
        batches.append(contentsOf: lifeEvents(residents: residents, perMille: lifePerMille))
        let total = batches.reduce(0) { $0 + $1.count }
        note("generated \(total) events in \(String(format: "%.1f", (wall.now - began).seconds)) s")

        // Baseline first, then with the checks, then with every check four times over (the same
        // findings: ids are deduplicated; four times the evaluation), each projection dropped before
        // the next is built. On a shared machine two runs of the same work differ by a few per cent, as
        // much as the checks cost: the fourfold run lifts their cost above that noise.
        let baseline = run(batches, checks: [])
        let persons = baseline.persons
        let measured = run(batches, checks: ReconciliationChecks.standard)
        let fourfold = run(batches, checks: Array(repeating: ReconciliationChecks.standard, count: 4).flatMap { $0 })
        let direct = measured.cpu - baseline.cpu
        let amplified = max(0, (fourfold.cpu - baseline.cpu) / 4)
        let share = measured.cpu > 0 ? amplified / (baseline.cpu + amplified) * 100 : 0
        print("  residents \(residents), events \(total) (persons \(persons)); thread CPU of Projection.apply only, parsing excluded")
        print(String(format: "  baseline  projection, no checks:     %8.2f s CPU  %10.0f events/s", baseline.cpu, Double(total) / baseline.cpu))
        print(String(format: "  measured  projection + 5 checks:     %8.2f s CPU  %10.0f events/s  (%.2f× the baseline's CPU; difference %.2f s)",
                     measured.cpu, Double(total) / measured.cpu, measured.cpu / max(baseline.cpu, 1e-9), direct))
        print(String(format: "            projection + 5 checks × 4: %8.2f s CPU  %10.0f events/s  (%.2f× the baseline's CPU)",
                     fourfold.cpu, Double(total) / fourfold.cpu, fourfold.cpu / max(baseline.cpu, 1e-9)))
        print(String(format: "  reconciliation alone (fourfold ÷ 4): %8.2f s CPU  %10.0f events/s  share of the projection's CPU: %.1f %%",
                     amplified, amplified > 0 ? Double(total) / amplified : 0, share))
        print("  findings (open) at the end: " + measured.counts.map { "\($0.check) \($0.open)" }.joined(separator: ", "))
        print("  machine load: \(DeliverBench.loadAverage())")
    }

    struct Outcome {
        var cpu: Double
        var persons: Int
        var counts: [(check: String, open: Int, explained: Int)]
    }

    /// Applies every batch to a fresh projection with `checks`, timing the applies.
    static func run(_ batches: [[String]], checks: [any ReconciliationCheck]) -> Outcome {
        var projection = Projection()
        projection.reconciliationChecks = checks
        var cpu = 0.0
        var lsn: Int64 = 0
        for batch in batches {
            var parsed: [LoggedEvent] = []
            parsed.reserveCapacity(batch.count)
            for line in batch {
                guard let envelope = try? JSONParser.parse(Array(line.utf8)).objectValue, let event = try? Event(envelope: envelope)
                else { continue }
                lsn += 1
                parsed.append(LoggedEvent(lsn: lsn, recordedAt: "2026-12-07T00:00:00.000Z", hash: "", event: event))
            }
            let start = threadCPU()
            for event in parsed { projection.apply(event) }
            // The daemon saves and forgets the changed records after each batch.
            projection.clearDirty()
            cpu += threadCPU() - start
        }
        note("applied \(lsn) events with \(checks.count) checks: \(String(format: "%.2f", cpu)) s CPU")
        return Outcome(cpu: cpu, persons: projection.personCount, counts: projection.reconciliationCounts)
    }

    /// The life-event phase, in batches of 10,000: per 1,000 residents `perMille` events, spread over
    /// deaths, 転出, withdrawn cards, children moved to a household of their own, and assessments of
    /// 宛名番号 beyond the registry.
    static func lifeEvents(residents: Int, perMille: Int) -> [[String]] {
        let count = residents * perMille / 1000
        var random = UInt64(0x17)
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((random >> 33) % UInt64(max(bound, 1)))
        }
        func line(_ source: String, _ id: String, _ type: String, _ subject: String, _ data: JSONObject) -> String {
            JSONValue.object([
                "source": .string(source), "event_id": .string(id), "type": .string(type),
                "occurred_at": "2026-12-01T09:00:00+09:00", "subject": .string(subject), "data": .object(data),
            ]).serializedString
        }
        let patrons = max(1, residents / 10)
        var lines: [String] = []
        for serial in 0..<count {
            let atena = ReplayBench.SyntheticLog.pad(next(residents) + 1, 9)
            switch serial % 10 {
            case 0, 1: lines.append(line("resident", "X-\(serial)", "resident.died", atena, [:]))
            case 2, 3, 4: lines.append(line("resident", "X-\(serial)", "resident.moved_out", atena, [:]))
            case 5, 6:
                lines.append(line("library", "X-\(serial)", "library.patron_withdrawn", "LIB-\(next(patrons))", [:]))
            case 7, 8:
                lines.append(line("resident", "X-\(serial)", "resident.household_changed", atena, [
                    "household_no": .string("HX-\(serial)"), "relationship": "世帯主",
                ]))
            default:
                lines.append(line("tax", "X-\(serial)", "tax.assessed", "TXX-\(serial)", [
                    "fiscal_year": 2026, "taxable": true, "income_levy": 10_000, "per_capita_levy": 5000,
                    "atena_no": .string(ReplayBench.SyntheticLog.pad(residents + 1 + serial, 9)),
                ]))
            }
        }
        return stride(from: 0, to: lines.count, by: 10_000).map { Array(lines[$0..<min($0 + 10_000, lines.count)]) }
    }
}
