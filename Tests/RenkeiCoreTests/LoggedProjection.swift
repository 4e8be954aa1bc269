import RenkeiCore
import Testing

/// The scaffolding the projection suites share (ProjectionEstimateTests, ProjectionLinkReviewTests,
/// ProjectionLinkValidityTests): a projection fed event lines one by one, with the log kept so a
/// test can rebuild from lsn 1 and compare.
protocol LoggedProjection {
    /// The projection the events were applied to.
    var projection: Projection { get set }
    /// The lsn the next event gets.
    var nextLSN: Int64 { get set }
    /// Every event applied, in order.
    var log: [LoggedEvent] { get set }
}

extension LoggedProjection {
    /// Parses `line` as the next event, logs it and applies it.
    mutating func apply(_ line: String) throws {
        defer { nextLSN += 1 }
        let event = try EventLog.event(line, lsn: nextLSN)
        log.append(event)
        projection.apply(event)
    }

    /// The projection rebuilt from the log.
    var rebuilt: Projection { EventLog.project(log) }

    /// Every uid allocated so far.
    var uids: [String] { (1..<Int(projection.meta.nextUID)).map { Projection.formatUID(Int64($0)) } }

    /// Expects `other` to hold every person byte for byte as ``projection`` does.
    func expectSamePersons(_ other: Projection, sourceLocation: SourceLocation = #_sourceLocation) {
        for uid in uids {
            #expect(other.personRecord(uid)?.encoded == projection.personRecord(uid)?.encoded, "\(uid)", sourceLocation: sourceLocation)
        }
    }

    /// The projection a restart builds from the stored persons, reviews and decisions.
    func restored(weights: MatchWeights = .standard) throws -> Projection {
        Projection(
            restoring: uids.compactMap { projection.personRecord($0) },
            households: [], meta: projection.meta, reviews: projection.openReviews,
            decisions: try LinkDecisions(decoding: projection.decisions.encoded), weights: weights)
    }
}
