import RenkeiCore
import Testing

/// The daemon's checkpoint cycle: store dirty records as bytes, restart from them, carry on.
@Suite struct ProjectionRestoreTests {
    /// What the daemon's SQLite tables would hold.
    struct Store {
        var persons: [String: [UInt8]] = [:]
        var households: [String: [UInt8]] = [:]
        var meta = ProjectionMeta().encoded

        mutating func checkpoint(_ projection: inout Projection) {
            for uid in projection.dirtyPersons { persons[uid] = projection.personRecord(uid)?.encoded }
            for number in projection.dirtyHouseholds { households[number] = projection.householdRecord(number)?.encoded }
            meta = projection.meta.encoded
            projection.clearDirty()
        }

        func restore() throws -> Projection {
            Projection(
                restoring: try persons.values.map { try PersonRecord(decoding: $0) },
                households: try households.values.map { try HouseholdRecord(decoding: $0) },
                meta: try ProjectionMeta(decoding: meta))
        }
    }

    /// Everything a reader can see, as bytes.
    static func snapshot(_ projection: Projection, households: [String]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for number in 1...(projection.personCount + 1) {
            let uid = Projection.formatUID(Int64(number))
            result.append(JSONValue.object(projection.personView(uid) ?? [:]).serializedBytes)
            for reveal in [false, true] {
                result.append(JSONValue.object(projection.personReply(uid, revealProtected: reveal) ?? [:]).serializedBytes)
            }
        }
        for number in households {
            for reveal in [false, true] {
                result.append(JSONValue.object(projection.householdView(number, revealProtected: reveal) ?? [:]).serializedBytes)
            }
        }
        result.append(projection.meta.encoded)
        return result
    }

    /// The sample plus protection, death and corrections, so restored state covers every part.
    static func log() throws -> [LoggedEvent] {
        let extra = [
            ProjectionRulesTests.resident("000100001", id: "R-0007", "protection_changed", #"{"protected":true}"#),
            ProjectionRulesTests.resident("000100003", id: "R-0008", "corrected", "{\"name\":\"髙橋 陽\u{FA11}\"}"),
            ProjectionRulesTests.tax("TX-900010", id: "T-9", atena: "000100099", year: 2026, taxable: true),
            ProjectionRulesTests.registered("000100099", id: "R-0009", household: "H000502", relationship: "同居人"),
            ProjectionRulesTests.resident("000100004", id: "R-0010", "died", "{}"),
        ]
        return try EventLog.events((EventLog.sampleLines.prefix(14) + EventLog.sampleLines[15...15] + extra)
            .joined(separator: "\n"))
    }

    static let householdNumbers = ["H000501", "H000502", "H1"]

    @Test(arguments: [1, 5, 11, 15, 18]) func restoreAtAnyPointEqualsFresh(restartAfter: Int) throws {
        let log = try Self.log()
        let fresh = EventLog.project(log)
        var freshEffects: [ProjectionEffect] = []
        var replay = Projection()
        for event in log { freshEffects.append(replay.apply(event)) }

        var store = Store()
        var projection = Projection()
        var effects: [ProjectionEffect] = []
        for (index, event) in log.enumerated() {
            effects.append(projection.apply(event))
            store.checkpoint(&projection)
            if index + 1 == restartAfter { projection = try store.restore() }
        }
        #expect(effects == freshEffects)
        #expect(Self.snapshot(projection, households: Self.householdNumbers) == Self.snapshot(fresh, households: Self.householdNumbers))
        #expect(try store.restore().lsn == Int64(log.count))
    }

    @Test func rebuildFromLSN1IsByteIdentical() throws {
        let log = try Self.log()
        let first = EventLog.project(log)
        let second = EventLog.project(log)
        #expect(Self.snapshot(first, households: Self.householdNumbers) == Self.snapshot(second, households: Self.householdNumbers))
        let protected = try #require(first.personReply("U0000000001"))
        #expect(protected["address"] == nil)
    }

    @Test func restoredIndexesRouteLaterEvents() throws {
        var store = Store()
        var projection = Projection()
        let events = try EventLog.events(
            [
                ProjectionRulesTests.tax("TX-1", id: "T1", atena: "000000001", year: 2026, taxable: true),
                ProjectionRulesTests.registered("000000002", id: "R2"),
            ].joined(separator: "\n"))
        for event in events { projection.apply(event) }
        store.checkpoint(&projection)
        var restored = try store.restore()
        #expect(restored.dirtyPersons.isEmpty)
        #expect(restored.uid(source: "tax", subject: "TX-1") == "U0000000001")
        // The reservation survives: the resident event lands on U1, not a new uid.
        let effect = restored.apply(try EventLog.event(ProjectionRulesTests.registered("000000001", id: "R1"), lsn: 3))
        #expect(effect.persons.map(\.uid) == ["U0000000001"])
        #expect(effect.households == [.init(householdNo: "H1", oldVersion: 1, newVersion: 2)])
        #expect(restored.householdView("H1")?.text("members") == #"["U0000000001","U0000000002"]"#)
        #expect(restored.dirtyPersons == ["U0000000001"])
        #expect(restored.dirtyHouseholds == ["H1"])
    }

    @Test func recordEncodingRoundTripsExactly() throws {
        let record = PersonRecord(
            uid: "U0000000042", version: 7, lsn: 99, atenaNo: "000100001",
            records: [
                SourceRecord(
                    link: PersonLink(source: "resident", subject: "000100001"),
                    identity: ["name": "\u{FA11}\u{9AD9}\u{845B}\u{E0100}", "my_number": "123456789018"],
                    facts: ["status": "active", "protected": true]),
                SourceRecord(
                    link: PersonLink(source: "library", subject: "LIB-1", method: "match", score: 0.95),
                    identity: ["name": "高橋"], facts: ["status": "active"]),
                SourceRecord(link: PersonLink(source: "library", subject: "LIB-2", method: "match", score: 1)),
            ],
            guardianOf: ["U0000000043"])
        let decoded = try PersonRecord(decoding: record.encoded)
        #expect(decoded.encoded == record.encoded)
        #expect(JSONValue.object(decoded.view).serializedBytes == JSONValue.object(record.view).serializedBytes)
        #expect(decoded.records[2].link.score == 1)

        let household = HouseholdRecord(
            householdNo: "H1", members: ["U1", "U2"], protectedMembers: ["U2"], allMembersTaxExempt: false, version: 3,
            lsn: 8)
        #expect(try HouseholdRecord(decoding: household.encoded) == household)
        #expect(try ProjectionMeta(decoding: ProjectionMeta(nextUID: 9, lsn: 15).encoded) == ProjectionMeta(nextUID: 9, lsn: 15))
    }

    @Test func damagedRecordsAreRefused() {
        #expect(throws: RenkeiError.self) { try PersonRecord(decoding: Array("{".utf8)) }
        #expect(throws: RenkeiError.self) { try PersonRecord(decoding: Array(#"{"uid":"U1"}"#.utf8)) }
        #expect(throws: RenkeiError.self) { try ProjectionMeta(decoding: Array("[]".utf8)) }
    }
}
