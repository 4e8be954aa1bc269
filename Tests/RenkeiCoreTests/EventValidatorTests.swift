import Testing

@testable import RenkeiCore

/// Envelope rules (contract §1) and the line-level checks.
@Suite struct EventValidatorTests {
    let validator = SchemaFixtures.validator

    /// A valid resident.moved envelope; tests change one thing.
    static let base: JSONObject = [
        "source": "resident", "event_id": "R-1", "type": "resident.moved",
        "occurred_at": "2026-08-20T09:30:00+09:00", "subject": "000100004",
        "data": ["address": "東京都千代田区一番町10番地2"],
    ]

    func result(
        _ change: (inout JSONObject) -> Void = { _ in }, expectedSource: String? = nil, allowOperator: Bool = false
    ) -> Result<Event, EventRejection> {
        var envelope = Self.base
        change(&envelope)
        return validator.validate(value: .object(envelope), expectedSource: expectedSource, allowOperator: allowOperator)
    }

    func rejection(
        _ change: (inout JSONObject) -> Void, expectedSource: String? = nil, allowOperator: Bool = false
    ) -> EventRejection? {
        if case .failure(let rejection) = result(change, expectedSource: expectedSource, allowOperator: allowOperator) {
            return rejection
        }
        return nil
    }

    @Test func sampleLinesValidateExceptTheLoanRecord() throws {
        let lines = try SchemaFixtures.sampleLines()
        #expect(lines.count == 17)
        for (index, line) in lines.enumerated() {
            let result = validator.validate(line: line, expectedSource: nil)
            if index + 1 == 15 {
                guard case .failure(let rejection) = result else {
                    Issue.record("line 15 (library.loan_recorded) was accepted")
                    continue
                }
                #expect(rejection.field == "type")
                #expect(rejection.reason.contains("図書館の自由に関する宣言"))
                #expect(rejection.reason.contains("reading records"))
            } else if case .failure(let rejection) = result {
                Issue.record("line \(index + 1) rejected: \(rejection)")
            }
        }
    }

    @Test func sampleEventKeepsTheEnvelopeAsGiven() throws {
        let line = try SchemaFixtures.sampleLines()[0]
        let event = try validator.validate(line: line, expectedSource: "resident").get()
        #expect(event.type == "resident.registered")
        #expect(event.subject == "000100001")
        #expect(event.schemaVersion == 1)
        #expect(event.envelope == (try JSONParser.parse(line)).objectValue)
    }

    @Test func passingBase() throws {
        let event = try result().get()
        #expect(event.source == "resident")
        #expect(event.data["address"]?.stringValue == "東京都千代田区一番町10番地2")
    }

    @Test func notJSONAndNotAnObject() {
        guard case .failure(let notJSON) = validator.validate(line: Array("{\"source\":".utf8), expectedSource: nil)
        else { Issue.record("accepted"); return }
        #expect(notJSON.field == nil)
        #expect(notJSON.description.contains("invalid JSON"))
        guard case .failure(let array) = validator.validate(line: Array("[1]".utf8), expectedSource: nil)
        else { Issue.record("accepted"); return }
        #expect(array.field == nil)
        #expect(array.reason == "an event must be a JSON object, not an array")
    }

    @Test func requiredEnvelopeKeys() {
        for key in ["source", "event_id", "type", "occurred_at", "subject", "data"] {
            let rejection = rejection { $0[key] = nil }
            #expect(rejection?.field == key, "\(key)")
            #expect(rejection?.reason == "is required", "\(key)")
        }
    }

    @Test func unknownEnvelopeKey() {
        let rejection = rejection { $0["lsn"] = 5 }
        #expect(rejection?.field == "lsn")
        #expect(rejection?.reason.contains("is not an allowed field") == true)
        #expect(rejection?.reason.contains("schema_version") == true)
    }

    @Test func optionalEnvelopeKeys() throws {
        let event = try result {
            $0["effective_date"] = "2026-08-18"
            $0["municipality"] = "131016"
            $0["schema_version"] = 1
        }.get()
        #expect(event.effectiveDate == "2026-08-18")
        #expect(event.municipality == "131016")
    }

    @Test func eventIDLength() {
        #expect(rejection { $0["event_id"] = "" }?.field == "event_id")
        #expect(rejection { $0["event_id"] = .string(String(repeating: "a", count: 129)) }?.field == "event_id")
        #expect(rejection { $0["event_id"] = .string(String(repeating: "あ", count: 128)) } == nil)
        #expect(rejection { $0["event_id"] = 12 }?.field == "event_id")
        #expect(rejection { $0["event_id"] = "R-\n1" }?.field == "event_id")
    }

    @Test func typeMustStartWithTheSource() {
        let rejection = rejection { $0["type"] = "tax.assessed" }
        #expect(rejection?.field == "type")
        #expect(rejection?.reason.contains("prefix must equal source") == true)
        #expect(self.rejection { $0["type"] = "resident" }?.field == "type")
        #expect(self.rejection { $0["type"] = "Resident.Moved" }?.field == "type")
    }

    @Test func unknownType() {
        let rejection = rejection { $0["type"] = "resident.teleported" }
        #expect(rejection?.field == "type")
        #expect(rejection?.reason.contains("unknown event type") == true)
        #expect(rejection?.reason.contains("resident.moved") == true)
        let unknownSource = self.rejection {
            $0["source"] = "water"
            $0["type"] = "water.metered"
        }
        #expect(unknownSource?.reason.contains("no schemas for source water") == true)
    }

    @Test func libraryReadingRecordsAreRefusedWithTheReasonBeforeUnknownType() {
        for type in ["library.loan_recorded", "library.reservation_made", "library.title_added", "library.x"] {
            let rejection = rejection {
                $0["source"] = "library"
                $0["type"] = .string(type)
                $0["data"] = ["title": "…"]
            }
            #expect(rejection?.field == "type")
            #expect(rejection?.reason.contains("図書館の自由に関する宣言") == true)
            #expect(rejection?.reason.contains("loans, reservations, titles") == true)
        }
        // Even with an otherwise broken envelope, the reason is the reading record.
        let broken = rejection {
            $0["source"] = "library"
            $0["type"] = "library.loan_recorded"
            $0["occurred_at"] = "yesterday"
        }
        #expect(broken?.reason.contains("図書館の自由に関する宣言") == true)
    }

    @Test func occurredAtNeedsAnOffsetAndARealTime() {
        #expect(rejection { $0["occurred_at"] = "2026-08-20T09:30:00" }?.field == "occurred_at")
        #expect(rejection { $0["occurred_at"] = "2026-02-30T09:30:00+09:00" }?.field == "occurred_at")
        #expect(rejection { $0["occurred_at"] = "2026-08-20T25:30:00Z" }?.field == "occurred_at")
        #expect(rejection { $0["occurred_at"] = "2026-08-20T09:30:00Z" } == nil)
        #expect(rejection { $0["occurred_at"] = "2026-08-20T09:30:00.5-03:00" } == nil)
        #expect(rejection { $0["occurred_at"] = "2026-08-20T09:30:00" }?.reason.contains("offset") == true)
    }

    @Test func effectiveDateMustExist() {
        #expect(rejection { $0["effective_date"] = "2026-02-29" }?.field == "effective_date")
        #expect(rejection { $0["effective_date"] = "2028-02-29" } == nil)
        #expect(rejection { $0["effective_date"] = "20260301" }?.reason == "must be a date YYYY-MM-DD that exists")
    }

    @Test func municipalityCheckDigit() {
        #expect(rejection { $0["municipality"] = "131016" } == nil)
        #expect(rejection { $0["municipality"] = "131010" }?.field == "municipality")
        #expect(rejection { $0["municipality"] = "13101" }?.field == "municipality")
        #expect(rejection { $0["municipality"] = 131016 }?.field == "municipality")
    }

    @Test func schemaVersion() {
        #expect(rejection { $0["schema_version"] = 1 } == nil)
        #expect(rejection { $0["schema_version"] = 0 }?.field == "schema_version")
        #expect(rejection { $0["schema_version"] = "1" }?.field == "schema_version")
        #expect(rejection { $0["schema_version"] = .double(1.5) }?.field == "schema_version")
        let future = rejection { $0["schema_version"] = 2 }
        #expect(future?.field == "schema_version")
        #expect(future?.reason.contains("not supported by this daemon") == true)
    }

    @Test func expectedSource() {
        let wrong = rejection({ _ in }, expectedSource: "tax")
        #expect(wrong?.field == "source")
        #expect(wrong?.reason == "this endpoint/folder accepts only source tax")
        #expect(rejection({ _ in }, expectedSource: "resident") == nil)
    }

    @Test func operatorEventsOnlyWhenAllowed() {
        let linked: (inout JSONObject) -> Void = {
            $0["source"] = "operator"
            $0["type"] = "operator.linked"
            $0["data"] = ["uid": "U0000000001", "source": "library", "subject": "LIB-20001"]
        }
        let refused = rejection(linked)
        #expect(refused?.field == "source")
        #expect(refused?.reason.contains("written by the daemon") == true)
        #expect(rejection(linked, allowOperator: true) == nil)
        #expect(rejection({ $0["source"] = "operator"; $0["type"] = "operator.review_rejected"; $0["data"] = ["review_id": "R1"] },
            allowOperator: true) == nil)
    }

    @Test func descriptionJoinsFieldAndReason() {
        #expect(EventRejection(field: "data.birth_date", reason: "must be x").description == "data.birth_date: must be x")
        #expect(EventRejection(field: nil, reason: "not JSON").description == "not JSON")
    }
}
