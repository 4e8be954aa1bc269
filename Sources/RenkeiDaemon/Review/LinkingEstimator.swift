import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem
import Synchronization

/// Estimates the linking parameters from every live source record and appends the result as one
/// `operator.linking_estimated` event (issue 14): for `POST /v1/linking/estimate`, and on its own
/// when the records from sources other than the registry reach a `linking.estimate_at_records`
/// size (``AutoEstimate``). One estimate runs at a time.
struct LinkingEstimator: Sendable {
    /// Why the daemon estimated on its own: the size reached and the records then.
    struct Trigger: Sendable, Hashable {
        var size: Int
        var records: Int

        /// The event's `trigger` {`by`, `estimate_at_records`, `records`}.
        var json: JSONObject {
            ["by": "renkeid", "estimate_at_records": .integer(Int64(size)), "records": .integer(Int64(records))]
        }
    }

    /// Whether an estimate is running (one at a time, whoever started it).
    private static let running = Mutex(false)

    let databasePath: String
    let decisions: OperatorDecisions
    /// The same-household weight the event carries (not estimated).
    let sameHousehold: Double
    let logger: Logger

    /// Claims the one estimate slot; `false` when an estimate is running.
    static func claim() -> Bool {
        running.withLock { busy in
            guard !busy else { return false }
            busy = true
            return true
        }
    }

    /// Releases the slot ``claim()`` took.
    static func release() { running.withLock { $0 = false } }

    /// Estimates and appends the event (the slot must be claimed; it is released here).
    /// - Parameters:
    ///   - options: the sampling options (`seed`).
    ///   - trigger: the size reached, when the daemon estimates on its own: the event then gets a
    ///     `trigger` and the event id `OP-renkeid-estimate-at-records-<size>`, so the log never holds
    ///     two estimates for one size.
    /// - Returns: the lsn of the event, or `nil` when it failed (logged; the weights in force stay).
    @discardableResult
    func run(options: MatchEstimation.Options = MatchEstimation.Options(), trigger: Trigger? = nil) async -> Int64? {
        defer { Self.release() }
        do {
            let reader = try Database(path: databasePath, readOnly: true)
            let persons = try reader.prepare("SELECT record FROM persons ORDER BY uid").rows([]) {
                try PersonRecord(decoding: $0.blob(0) ?? [])
            }
            let profiles = MatchEstimation.profiles(of: persons)
            let parameters = MatchEstimation.estimate(profiles, options: options)
            var data = parameters.json(sameHousehold: sameHousehold)
            if let trigger { data["trigger"] = .object(trigger.json) }
            let lsn = try await decisions.append(
                type: "operator.linking_estimated", subject: "linking", data: data,
                eventID: trigger.map { "OP-renkeid-estimate-at-records-\($0.size)" })
            let why = trigger.map { ", on reaching \($0.size) records (linking.estimate_at_records)" } ?? ""
            logger.notice("linking: estimated from \(profiles.count) records\(why) (operator.linking_estimated at lsn \(lsn))")
            return lsn
        } catch {
            logger.error("linking: estimate failed: \(error); the weights in force stay")
            return nil
        }
    }
}

/// `linking.estimate_at_records` (issue 14): after each projection batch, when the records from
/// sources other than the registry have reached a listed size that no estimate was made at yet,
/// the daemon estimates on its own (``LinkingEstimator``), once per size.
///
/// "Already estimated at this size" is read from the projection (``LinkDecisions/estimatedAtRecords``,
/// set by the logged event's `trigger`), so restarts and rebuilds never estimate twice; the size
/// asked for in this process covers the moment between the append and the projection applying it.
/// Sizes passed while the daemon was down (or several within one batch) give one estimate, at the
/// largest. A size reached while an estimate runs is estimated at when that estimate is done (or
/// after the next batch, if an operator's estimate was running). A failed estimate is not retried
/// before the next start (the error is logged).
final class AutoEstimate: Sendable {
    let sizes: [Int]
    let estimator: LinkingEstimator
    /// The largest size this process asked an estimate for.
    private let asked = Mutex(0)

    init(sizes: [Int], estimator: LinkingEstimator) {
        self.sizes = sizes
        self.estimator = estimator
    }

    /// The size to estimate at now, if any: the largest listed size at most `records` and above
    /// both `done` (from the projection) and what was asked already.
    static func due(sizes: [Int], records: Int, done: Int, asked: Int = 0) -> Int? {
        sizes.last { $0 <= records && $0 > Swift.max(done, asked) }
    }

    /// Checks the projection after a batch (writer thread: reads two counters, starts nothing
    /// there but a task).
    func check(_ projection: ProjectionService) {
        guard !sizes.isEmpty, projection.isLive else { return }
        let (records, done) = projection.projection.withLock { ($0.linkedRecordCount, $0.decisions.estimatedAtRecords) }
        guard let size = asked.withLock({ asked -> Int? in
            guard let size = Self.due(sizes: sizes, records: records, done: done, asked: asked), LinkingEstimator.claim()
            else { return nil }
            asked = size
            return size
        }) else { return }
        Task.detached {
            await self.estimator.run(trigger: .init(size: size, records: records))
            // A size reached while this estimate ran (its own event is a batch) is due now.
            self.check(projection)
        }
    }
}
