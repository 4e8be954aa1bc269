import Testing

@testable import RenkeiCore

/// The `data` rules of each event type (contract §2), a passing and a failing case each.
@Suite struct EventValidatorDataTests {
    let validator = SchemaFixtures.validator

    static let registered: JSONObject = [
        "reason": "move_in", "name": "髙橋 一郎", "name_kana": "タカハシ イチロウ", "birth_date": "1985-06-12",
        "sex": "male", "address": "東京都千代田区九段南1丁目2番1号", "postal_code": "102-0074",
        "household_no": "H000501", "relationship": "世帯主", "my_number": "123456789018",
    ]
    static let assessed: JSONObject = [
        "fiscal_year": 2026, "taxable": true, "income_levy": 182400, "per_capita_levy": 5000,
        "name": "鈴木 次郎", "name_kana": "スズキ ジロウ", "birth_date": "1960-03-30",
        "address": "神奈川県横浜市中区本町6丁目50番地",
    ]
    static let applied: JSONObject = [
        "child": ["name": "高橋 陽太", "name_kana": "たかはし ようた", "birth_date": "2022-02-20"],
        "guardians": [["atena_no": "000100001", "name": "髙橋 一郎", "name_kana": "タカハシ イチロウ"]],
        "preferred_facilities": ["F-101", "F-104"],
    ]

    /// Validates an event of `type` with `data`; nil when accepted.
    func rejection(_ type: String, _ data: JSONObject, change: (inout JSONObject) -> Void = { _ in }) -> EventRejection? {
        var data = data
        change(&data)
        let source = String(type.prefix { $0 != "." })
        let envelope: JSONObject = [
            "source": .string(source), "event_id": "E-1", "type": .string(type),
            "occurred_at": "2026-04-01T09:00:00+09:00", "subject": "S-1", "data": .object(data),
        ]
        if case .failure(let rejection) = validator.validate(
            value: .object(envelope), expectedSource: source, allowOperator: source == "operator")
        {
            return rejection
        }
        return nil
    }

    // MARK: - resident

    @Test func registered() {
        #expect(rejection("resident.registered", Self.registered) == nil)
        for key in ["reason", "name", "birth_date", "sex", "address", "household_no", "relationship"] {
            #expect(rejection("resident.registered", Self.registered) { $0[key] = nil }?.field == "data.\(key)", "\(key)")
        }
        for key in ["name_kana", "postal_code", "my_number"] {
            #expect(rejection("resident.registered", Self.registered) { $0[key] = nil } == nil, "\(key) is optional")
        }
    }

    @Test func unknownDataKey() {
        let rejection = rejection("resident.registered", Self.registered) { $0["nationality"] = "JP" }
        #expect(rejection?.field == "data.nationality")
        #expect(rejection?.reason.contains("is not an allowed field") == true)
    }

    @Test func reasonAndSexEnums() {
        for reason in ["birth", "move_in", "other"] {
            #expect(rejection("resident.registered", Self.registered) { $0["reason"] = .string(reason) } == nil)
        }
        let badReason = rejection("resident.registered", Self.registered) { $0["reason"] = "transfer" }
        #expect(badReason?.field == "data.reason")
        #expect(badReason?.reason == #"must be one of "birth", "move_in", "other""#)
        for sex in ["male", "female", "unknown"] {
            #expect(rejection("resident.registered", Self.registered) { $0["sex"] = .string(sex) } == nil)
        }
        #expect(rejection("resident.registered", Self.registered) { $0["sex"] = "M" }?.field == "data.sex")
    }

    @Test func birthDateMustExist() {
        #expect(rejection("resident.registered", Self.registered) { $0["birth_date"] = "2024-02-29" } == nil)
        let bad = rejection("resident.registered", Self.registered) { $0["birth_date"] = "2023-02-29" }
        #expect(bad?.description == "data.birth_date: must be a date YYYY-MM-DD that exists")
        #expect(rejection("resident.registered", Self.registered) { $0["birth_date"] = "1985/06/12" } != nil)
    }

    @Test func myNumberCheckDigitWithoutEchoingIt() {
        for bad in ["123456789012", "12345678901", "1234567890180", "12345678901a", "１２３４５６７８９０１８"] {
            let rejection = rejection("resident.registered", Self.registered) { $0["my_number"] = .string(bad) }
            #expect(rejection?.field == "data.my_number")
            #expect(rejection?.reason == "must be 12 digits with a valid check digit")
            #expect(rejection.map { !$0.description.contains(bad) } == true)
            #expect(rejection.map { !$0.description.contains("12345678901") } == true)
        }
        let number = rejection("resident.registered", Self.registered) { $0["my_number"] = 123456789018 }
        #expect(number?.reason == "must be 12 digits with a valid check digit")
    }

    @Test func namesAreStoredAsGiven() throws {
        // Latin script, no kana; an IVS sequence and a compatibility ideograph; full-width digits in the address.
        let data: JSONObject = [
            "reason": "move_in", "name": "SMITH John", "birth_date": "1990-01-01", "sex": "unknown",
            "address": "千代田区九段南１－２－１", "household_no": "H1", "relationship": "世帯主",
        ]
        #expect(rejection("resident.registered", data) == nil)
        let name = "\u{9AD9}\u{E0100}橋 \u{FA11}"
        let envelope: JSONObject = [
            "source": "resident", "event_id": "E-1", "type": "resident.name_changed",
            "occurred_at": "2026-04-01T09:00:00+09:00", "subject": "S-1", "data": ["name": .string(name)],
        ]
        let event = try validator.validate(value: .object(envelope), expectedSource: nil).get()
        #expect(event.data["name"]?.stringValue?.unicodeScalars.elementsEqual(name.unicodeScalars) == true)
    }

    @Test func namesMustBeNonEmptySingleLine() {
        for bad: JSONValue in ["", " ", "　", "髙橋\n一郎", 5, .null] {
            #expect(rejection("resident.name_changed", ["name": bad])?.field == "data.name", "\(bad)")
        }
        #expect(rejection("resident.name_changed", ["name": .string(String(repeating: "あ", count: 201))]) != nil)
    }

    @Test func kanaIsKana() {
        for good in ["タカハシ イチロウ", "ﾀｶﾊｼ ｲﾁﾛｳ", "たかはし ようた", "ジョン・スミス", "サトー　ケン"] {
            #expect(rejection("resident.name_changed", ["name": "x", "name_kana": .string(good)]) == nil, "\(good)")
        }
        for bad in ["高橋", "Takahashi", "", " ", "ー"] {
            #expect(rejection("resident.name_changed", ["name": "x", "name_kana": .string(bad)])?.field == "data.name_kana",
                "\(bad)")
        }
    }

    @Test func postalCode() {
        for good in ["102-0074", "1020074"] {
            #expect(rejection("resident.moved", ["address": "a", "postal_code": .string(good)]) == nil)
        }
        for bad in ["102-007", "〒102-0074", "１０２-0074", "102 0074"] {
            #expect(rejection("resident.moved", ["address": "a", "postal_code": .string(bad)])?.field == "data.postal_code")
        }
    }

    @Test func movedAndMovedOut() {
        #expect(rejection("resident.moved", ["address": "東京都千代田区一番町10番地2", "household_no": "H2", "relationship": "子"]) == nil)
        #expect(rejection("resident.moved", ["postal_code": "102-0082"])?.field == "data.address")
        #expect(rejection("resident.moved_out", [:]) == nil)
        #expect(rejection("resident.moved_out", ["destination": "大阪府大阪市北区"]) == nil)
        #expect(rejection("resident.moved_out", ["destination": ""])?.field == "data.destination")
    }

    @Test func diedCarriesNoData() {
        #expect(rejection("resident.died", [:]) == nil)
        #expect(rejection("resident.died", ["date": "2026-04-01"])?.field == "data.date")
    }

    @Test func householdChanged() {
        #expect(rejection("resident.household_changed", ["household_no": "H000777", "relationship": "世帯主"]) == nil)
        #expect(rejection("resident.household_changed", ["household_no": "H000777"])?.field == "data.relationship")
        #expect(rejection("resident.household_changed", ["household_no": "H 7", "relationship": "子"])?.field
            == "data.household_no")
    }

    @Test func correctedNeedsANonEmptySubset() {
        #expect(rejection("resident.corrected", ["birth_date": "1985-06-21"]) == nil)
        let empty = rejection("resident.corrected", [:])
        #expect(empty?.field == "data")
        #expect(empty?.reason.contains("at least one field") == true)
        #expect(rejection("resident.corrected", ["reason": "other"])?.field == "data.reason")
        #expect(rejection("resident.corrected", ["my_number": "123456789012"])?.field == "data.my_number")
    }

    @Test func protectionChanged() {
        #expect(rejection("resident.protection_changed", ["protected": true]) == nil)
        #expect(rejection("resident.protection_changed", ["protected": "true"])?.field == "data.protected")
        #expect(rejection("resident.protection_changed", [:])?.field == "data.protected")
    }

    // MARK: - tax

    @Test func taxWithAtenaNoNeedsNoIdentity() {
        let data: JSONObject = ["fiscal_year": 2026, "taxable": false, "income_levy": 0, "per_capita_levy": 0,
            "atena_no": "000100002"]
        #expect(rejection("tax.assessed", data) == nil)
        #expect(rejection("tax.corrected", data) == nil)
    }

    @Test func taxWithoutAtenaNoNeedsNameBirthDateAddress() {
        #expect(rejection("tax.assessed", Self.assessed) == nil)
        for key in ["name", "birth_date", "address"] {
            for type in ["tax.assessed", "tax.corrected"] {
                let rejection = rejection(type, Self.assessed) { $0[key] = nil }
                #expect(rejection?.field == "data.\(key)", "\(type) \(key)")
                #expect(rejection?.reason.contains("when atena_no is absent") == true)
            }
        }
        #expect(rejection("tax.assessed", Self.assessed) { $0["name_kana"] = nil } == nil)
    }

    @Test func moneyIsANonNegativeInteger() {
        for key in ["income_levy", "per_capita_levy"] {
            #expect(rejection("tax.assessed", Self.assessed) { $0[key] = -1 }?.field == "data.\(key)")
            #expect(rejection("tax.assessed", Self.assessed) { $0[key] = .double(10.5) }?.field == "data.\(key)")
            #expect(rejection("tax.assessed", Self.assessed) { $0[key] = "5000" }?.field == "data.\(key)")
        }
        let fee: JSONObject = ["fiscal_year": 2026, "fee_tier": "D7", "monthly_fee": 31500]
        #expect(rejection("childcare.fee_decided", fee) == nil)
        #expect(rejection("childcare.fee_decided", fee) { $0["monthly_fee"] = -100 }?.reason
            == "must be a non-negative integer amount of yen")
    }

    @Test func taxExemptMeansNoLevy() {
        let rejection = rejection("tax.assessed", Self.assessed) { $0["taxable"] = false }
        #expect(rejection?.field == "data.income_levy")
        #expect(rejection?.reason.contains("非課税") == true)
    }

    @Test func fiscalYear() {
        #expect(rejection("tax.assessed", Self.assessed) { $0["fiscal_year"] = "2026" }?.field == "data.fiscal_year")
        #expect(rejection("tax.assessed", Self.assessed) { $0["fiscal_year"] = 26 }?.field == "data.fiscal_year")
    }

    @Test func atenaNoIsDigits() {
        #expect(rejection("tax.assessed", Self.assessed) { $0["atena_no"] = "A-1" }?.field == "data.atena_no")
        #expect(rejection("tax.assessed", Self.assessed) { $0["atena_no"] = "000100001" } == nil)
    }

    // MARK: - childcare

    @Test func applied() {
        #expect(rejection("childcare.applied", Self.applied) == nil)
        #expect(rejection("childcare.applied", Self.applied) { $0["guardians"] = [] }?.field == "data.guardians")
        #expect(rejection("childcare.applied", Self.applied) { $0["preferred_facilities"] = nil }?.field
            == "data.preferred_facilities")
        let childWithoutBirth = rejection("childcare.applied", Self.applied) {
            $0["child"] = ["name": "高橋 陽太"]
        }
        #expect(childWithoutBirth?.field == "data.child.birth_date")
    }

    @Test func guardianErrorsHaveIndexedPaths() {
        let rejection = rejection("childcare.applied", Self.applied) {
            $0["guardians"] = [["name": "髙橋 一郎"], ["name": "", "birth_date": "1987-11-03"]]
        }
        #expect(rejection?.field == "data.guardians[1].name")
        let unknown = self.rejection("childcare.applied", Self.applied) {
            $0["guardians"] = [["name": "髙橋 一郎", "phone": "03"]]
        }
        #expect(unknown?.field == "data.guardians[0].phone")
        let facility = self.rejection("childcare.applied", Self.applied) { $0["preferred_facilities"] = ["F-101", 104] }
        #expect(facility?.field == "data.preferred_facilities[1]")
    }

    @Test func enrolledCertification() {
        let data: JSONObject = ["facility_code": "F-101", "start_date": "2026-07-01", "certification": "3"]
        for good in ["1", "2", "3"] {
            #expect(rejection("childcare.enrolled", data) { $0["certification"] = .string(good) } == nil)
        }
        for bad: JSONValue in ["4", 3, "3号"] {
            #expect(rejection("childcare.enrolled", data) { $0["certification"] = bad }?.field == "data.certification")
        }
        #expect(rejection("childcare.enrolled", data) { $0["start_date"] = "2026-06-31" }?.field == "data.start_date")
    }

    @Test func withdrawn() {
        #expect(rejection("childcare.withdrawn", ["end_date": "2027-03-31"]) == nil)
        #expect(rejection("childcare.withdrawn", ["end_date": "2027-03-31", "reason": "転出"]) == nil)
        #expect(rejection("childcare.withdrawn", ["reason": "転出"])?.field == "data.end_date")
    }

    // MARK: - library

    @Test func patronRegisteredCarriesNoAtenaNo() {
        let data: JSONObject = ["name": "佐藤 健", "name_kana": "サトウ ケン", "birth_date": "1979-09-09",
            "address": "東京都新宿区西新宿2-8-1"]
        #expect(rejection("library.patron_registered", data) == nil)
        #expect(rejection("library.patron_registered", data) { $0["atena_no"] = "000100001" }?.field == "data.atena_no")
        #expect(rejection("library.patron_registered", data) { $0["address"] = nil }?.field == "data.address")
    }

    @Test func patronUpdatedNeedsANonEmptySubset() {
        #expect(rejection("library.patron_updated", ["address": "東京都千代田区一番町10番地2"]) == nil)
        #expect(rejection("library.patron_updated", [:])?.field == "data")
        #expect(rejection("library.patron_updated", ["sex": "male"])?.field == "data.sex")
        #expect(rejection("library.patron_withdrawn", [:]) == nil)
    }

    // MARK: - operator

    @Test func operatorEvents() {
        let link: JSONObject = ["uid": "U0000000007", "source": "library", "subject": "LIB-20001"]
        #expect(rejection("operator.linked", link) == nil)
        #expect(rejection("operator.unlinked", link) == nil)
        #expect(rejection("operator.linked", link) { $0["uid"] = "U7" }?.field == "data.uid")
        #expect(rejection("operator.unlinked", link) { $0["subject"] = nil }?.field == "data.subject")
        #expect(rejection("operator.review_rejected", ["review_id": "42"]) == nil)
        #expect(rejection("operator.review_rejected", [:])?.field == "data.review_id")
    }
}
