import RenkeiCore
import Testing

/// The cut-over comparison of shadow runs (issue 17), without a daemon.
@Suite struct ShadowDiffTests {
    static func view(_ name: String, address: String, extra: JSONObject = [:]) -> JSONObject {
        var view: JSONObject = ["uid": "U1", "name": .string(name), "address": .string(address), "birth_date": "1980-01-01"]
        for member in extra { view[member.key] = member.value }
        return view
    }

    @Test func matchedDifferingAndOneSidedPersonsAreCountedAndListed() {
        let legacy = [
            ShadowDiff.LegacyRow(subject: "A1", line: 2, data: ["name": "髙橋 一郎", "address": "九段南1-2-1", "birth_date": "1980-01-01"]),
            ShadowDiff.LegacyRow(subject: "A2", line: 3, data: ["name": "山﨑 花子", "address": "九段南1-2-30"]),
            ShadowDiff.LegacyRow(subject: "A9", line: 4, data: ["name": "旧 三郎"]),
        ]
        var diff = ShadowDiff(legacy: legacy, visibleFields: ["uid", "name", "address", "birth_date"], limit: 10)
        diff.add(.init(uid: "U1", subjects: ["A1"], view: Self.view("髙橋 一郎", address: "九段南1-2-1")))
        diff.add(.init(uid: "U2", subjects: ["A2"], view: Self.view("山﨑 花子", address: "九段南1-2-3")))
        diff.add(.init(uid: "U3", subjects: ["A3"], view: Self.view("鈴木 四郎", address: "x")))
        diff.add(.init(uid: "U4", subjects: [], view: Self.view("未連携", address: "y")))
        diff.finish()
        #expect(diff.matched == 1 && diff.differingCount == 1 && diff.onlyInRenkeiCount == 2 && diff.onlyInLegacyCount == 1)
        #expect(diff.differing == [
            .init(subject: "A2", uid: "U2", line: 3, differences: [.init(field: "address", renkei: "九段南1-2-3", legacy: "九段南1-2-30")])
        ])
        #expect(diff.onlyInRenkei.map(\.uid) == ["U3", "U4"] && diff.onlyInRenkei.map(\.subject) == ["A3", nil])
        #expect(diff.onlyInLegacy.map(\.subject) == ["A9"] && diff.onlyInLegacy.map(\.line) == [4])
        #expect(diff.differingByField == ["address": 1])
        #expect(diff.compared == ["address", "birth_date", "name"] && diff.notCompared.isEmpty)
        #expect(diff.json["counts"] == ["matched": 1, "differing": 1, "only_in_renkei": 2, "only_in_legacy": 1])
    }

    /// Nested fields compare leaf by leaf; a field the subscription may not see is listed, not compared;
    /// a number and its text are the same value; a field Renkei lacks is `null`.
    @Test func leavesInvisibleFieldsScalarsAndMissingValues() {
        let legacy = [
            ShadowDiff.LegacyRow(
                subject: "L1", line: 2,
                data: ["library": ["card_no": "C-1", "active": true], "tax": ["amount": 1200], "postal_code": "102-0074"])
        ]
        var diff = ShadowDiff(legacy: legacy, visibleFields: ["library", "postal_code"], limit: 10)
        diff.add(.init(uid: "U1", subjects: ["L1"], view: ["uid": "U1", "library": ["card_no": "C-1", "active": "true"]]))
        diff.finish()
        #expect(diff.compared == ["library.active", "library.card_no", "postal_code"])
        #expect(diff.notCompared == ["tax.amount"])
        #expect(diff.differing.first?.differences == [.init(field: "postal_code", renkei: .null, legacy: "102-0074")])
    }

    /// The lists stop at the limit; the counts do not.
    @Test func listsStopAtTheLimitButCountsAreComplete() {
        var diff = ShadowDiff(legacy: [], visibleFields: ["name"], limit: 2)
        for number in 1...5 { diff.add(.init(uid: "U\(number)", subjects: ["S\(number)"], view: ["name": "x"])) }
        diff.finish()
        #expect(diff.onlyInRenkeiCount == 5 && diff.onlyInRenkei.count == 2 && diff.truncated)
    }
}
