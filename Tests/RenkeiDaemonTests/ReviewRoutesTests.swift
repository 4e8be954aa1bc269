import Foundation
import RenkeiCore
@testable import RenkeiDaemon
import Testing

/// The review and link routes through the real status socket (contract §6, issue 3): what an
/// official sees, what each decision writes to the log, what the views and the deltas do, what is
/// refused, and that a rebuild reproduces every decision.
@Suite("Review and link routes", .serialized)
struct ReviewRoutesTests {
    /// The head of the log, from `/v1/status`.
    static func head(_ fixture: ReviewFixture) async throws -> Int64 {
        try await fixture.request("GET", "/v1/status").json["head_lsn"]?.integerValue ?? -1
    }

    /// Whether a reason is worded for an official in both languages: Japanese, then an English gloss.
    static func isBilingual(_ reason: String) -> Bool {
        let japanese = reason.unicodeScalars.contains { (0x3040...0x30FF).contains($0.value) || (0x4E00...0x9FFF).contains($0.value) }
        return japanese && reason.range(of: #"\([a-z][a-z ,;/-]*\)$"#, options: .regularExpression) != nil
    }

    @Test(.timeLimit(.minutes(2)))
    func reviewIsListedAndLinkedToACandidate() async throws {
        let fixture = try await ReviewFixture()
        #expect(try await fixture.ingest([
            ReviewEvents.resident("000000001", id: "R1"), ReviewEvents.weakPatron("LIB-9", id: "L9"),
        ]) == 2)

        let reviews = try await fixture.reviews()
        #expect(reviews.count == 1)
        let item = try #require(reviews.first)
        let id = try #require(item["id"]?.stringValue)
        #expect(id == "RV0000000001" && item["source"] == "library" && item["subject"] == "LIB-9")
        let candidates = try #require(item["candidates"]?.arrayValue)
        #expect(candidates.map { $0["uid"]?.stringValue } == ["U0000000001"])
        let score = try #require(candidates.first?["score"]?.doubleLike)
        #expect(score >= 0.75 && score < 0.92)
        let reasons = candidates.first?["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(reasons.contains("name: 異体字 高/髙 (variant kanji)"), "\(reasons)")
        #expect(reasons.contains("birth_date: 一致 (exact)"))
        #expect(!reasons.isEmpty && reasons.allSatisfy(Self.isBilingual), "\(reasons)")
        // Review items never quote an address or a birth date.
        let text = item.serializedString
        #expect(!text.contains("大阪") && !text.contains("九段") && !text.contains("1985"))
        #expect(try await fixture.request("GET", "/v1/reviews/\(id)").json == item)

        // Refusals name what is wrong and write nothing.
        let link = "/v1/reviews/\(id)/link"
        let refusals: [(target: String, body: String, status: Int, message: String)] = [
            ("/v1/reviews/RV0000000099/link", #"{"uid":"U0000000001"}"#, 404, "no open review RV0000000099"),
            (link, "uid=U0000000001", 400, "the body must be one JSON object"),
            (link, "{}", 400, "uid: required"),
            (link, #"{"uid":1}"#, 400, "uid: must be a string"),
            (link, #"{"uid":"U1"}"#, 400, "uid: must be U followed by 10 digits"),
            (link, #"{"uid":"U0000000001","note":"same person"}"#, 400, "note: unknown key"),
            (link, #"{"uid":"U0000000077"}"#, 404, "uid: no person U0000000077"),
            (link, #"{"uid":"U0000000002"}"#, 409, "uid: U0000000002 is not a candidate of \(id)"),
        ]
        for refusal in refusals {
            let reply = try await fixture.request("POST", refusal.target, json: refusal.body)
            #expect(reply.status == refusal.status, "\(refusal.body): \(reply.json)")
            let message = reply.json["error"]?.stringValue ?? ""
            #expect(message.hasPrefix(refusal.message), "\(refusal.body): \(message)")
        }
        #expect(try await Self.head(fixture) == 2)

        let reply = try await fixture.request("POST", link, json: #"{"uid":"U0000000001"}"#)
        #expect(reply.status == 200 && reply.json["decision"] == "linked" && reply.json["uid"] == "U0000000001")
        let lsn = try #require(reply.json["lsn"]?.integerValue)
        let logged = try #require(try fixture.logged(lsn)).event
        #expect(logged.source == "operator" && logged.type == "operator.linked")
        #expect(fields(logged.data) == ["uid": "U0000000001", "source": "library", "subject": "LIB-9"])

        // The item is closed; the record's uid merged into the candidate (the lower uid is kept).
        #expect(try await fixture.reviews().isEmpty)
        #expect(try await fixture.request("GET", "/v1/reviews/\(id)").status == 404)
        #expect(try await fixture.request("POST", link, json: #"{"uid":"U0000000001"}"#).status == 404)
        #expect(try await fixture.uid("library", "LIB-9") == "U0000000001")
        let person = try await fixture.request("GET", "/v1/persons/U0000000001").json
        let patronLink = person["links"]?.arrayValue?.first { $0["subject"] == "LIB-9" }
        #expect(patronLink?["method"] == "operator")
        #expect(try await fixture.request("GET", "/v1/persons/U0000000002").json["merged_into"] == "U0000000001")
        let receiver = fixture.receiver
        #expect(await fixture.wait {
            receiver.delivered.contains { $0.json["kind"] == "person.merged" && $0.json["uid"] == "U0000000002" }
        })
        let merged = try #require(receiver.delivered.first { $0.json["kind"] == "person.merged" }?.json)
        #expect(merged["view"]?["merged_into"] == "U0000000001")
        #expect(merged["changes"]?["merged_into"]?["new"] == "U0000000001")
        await fixture.stop()
    }

    @Test(.timeLimit(.minutes(2)))
    func rejectedReviewIsNeverLinkedAutomatically() async throws {
        let fixture = try await ReviewFixture()
        #expect(try await fixture.ingest([
            ReviewEvents.resident("000000001", id: "R1"), ReviewEvents.weakPatron("LIB-7", id: "L7"),
        ]) == 2)
        let id = try #require(try await fixture.reviews().first?["id"]?.stringValue)
        #expect(try await fixture.request("POST", "/v1/reviews/RV0000000042/reject").status == 404)

        let reply = try await fixture.request("POST", "/v1/reviews/\(id)/reject")
        #expect(reply.status == 200 && reply.json["decision"] == "rejected" && reply.json["review_id"]?.stringValue == id)
        let logged = try #require(try fixture.logged(reply.json["lsn"]?.integerValue)).event
        #expect(logged.type == "operator.review_rejected" && fields(logged.data) == ["review_id": .string(id)])
        #expect(try await fixture.reviews().isEmpty)

        // The patron's record now agrees with the registry on everything; a patron that did not
        // go through a rejection links automatically on the same data, LIB-7 does not.
        #expect(try await fixture.ingest([ReviewEvents.fullPatron("LIB-8", id: "L8")]) == 1)
        #expect(try await fixture.uid("library", "LIB-8") == "U0000000001")
        #expect(try await fixture.ingest([ReviewEvents.patronCompleted("LIB-7", id: "L7b")]) == 1)
        #expect(try await fixture.uid("library", "LIB-7") == "U0000000002")
        #expect(try await fixture.reviews().isEmpty)
        await fixture.stop()
    }

    @Test(.timeLimit(.minutes(2)))
    func operatorLinksAndUnlinks() async throws {
        let fixture = try await ReviewFixture()
        #expect(try await fixture.ingest([
            ReviewEvents.resident("000000001", id: "R1"),  // U1
            ReviewEvents.fullPatron("LIB-1", id: "L1"),  // linked to U1
            ReviewEvents.weakPatron("LIB-2", id: "L2"),  // U2, in review
            ReviewEvents.resident("000000002", id: "R2", name: "佐藤 花子", birth: "1990-02-03"),  // U3
        ]) == 4)
        #expect(try await fixture.uid("library", "LIB-1") == "U0000000001")

        // Refusals: each names the field or the conflict, and nothing is written.
        let long = String(repeating: "x", count: 200)
        let refusals: [(method: String, body: String, status: Int, message: String)] = [
            ("POST", "[]", 400, "the body must be one JSON object"),
            ("POST", #"{"uid":"U0000000001","source":"library"}"#, 400, "subject: required"),
            ("POST", #"{"uid":"U0000000001","source":"nosuch","subject":"X"}"#, 400, "source: 'nosuch' is not a configured source"),
            ("POST", #"{"uid":"U0000000001","source":"library","subject":""}"#, 400, "subject: must not be empty"),
            ("POST", #"{"uid":"U0000000001","source":"library","subject":"\#(long)"}"#, 400, "operator decision rejected: subject"),
            ("POST", #"{"uid":"U0000000099","source":"library","subject":"LIB-2"}"#, 404, "uid: no person U0000000099"),
            ("POST", #"{"uid":"U0000000001","source":"resident","subject":"000000002"}"#, 409, "U0000000001 already has the active registration 000000001"),
            ("DELETE", #"{"uid":"U0000000001","source":"library","subject":"LIB-2"}"#, 404, "library LIB-2 is not linked to U0000000001"),
            ("DELETE", #"{"uid":"U0000000002","source":"library","subject":"LIB-2"}"#, 409, "library LIB-2 is the only record of U0000000002"),
            ("DELETE", #"{"uid":"U0000000001","subject":"LIB-1"}"#, 400, "source: required"),
        ]
        for refusal in refusals {
            let reply = try await fixture.request(refusal.method, "/v1/links", json: refusal.body)
            #expect(reply.status == refusal.status, "\(refusal.method) \(refusal.body): \(reply.json)")
            let message = reply.json["error"]?.stringValue ?? ""
            #expect(message.hasPrefix(refusal.message), "\(refusal.body): \(message)")
        }
        #expect(try await Self.head(fixture) == 4)

        // Link: the patron in review joins U1, its review closes, a person.merged delta goes out.
        var reply = try await fixture.request("POST", "/v1/links", json: #"{"uid":"U0000000001","source":"library","subject":"LIB-2"}"#)
        #expect(reply.status == 200 && reply.json["decision"] == "linked")
        var logged = try #require(try fixture.logged(reply.json["lsn"]?.integerValue)).event
        #expect(logged.type == "operator.linked" && fields(logged.data) == ["uid": "U0000000001", "source": "library", "subject": "LIB-2"])
        #expect(try await fixture.uid("library", "LIB-2") == "U0000000001")
        #expect(try await fixture.reviews().isEmpty)

        // Unlink: LIB-1 splits off into U4 and a person.unlinked delta names it.
        reply = try await fixture.request("DELETE", "/v1/links", json: #"{"uid":"U0000000001","source":"library","subject":"LIB-1"}"#)
        #expect(reply.status == 200 && reply.json["decision"] == "unlinked")
        logged = try #require(try fixture.logged(reply.json["lsn"]?.integerValue)).event
        #expect(logged.type == "operator.unlinked" && fields(logged.data) == ["uid": "U0000000001", "source": "library", "subject": "LIB-1"])
        #expect(try await fixture.uid("library", "LIB-1") == "U0000000004")
        let receiver = fixture.receiver
        #expect(await fixture.wait {
            receiver.delivered.contains { $0.json["kind"] == "person.unlinked" && $0.json["uid"] == "U0000000001" }
        })
        let unlinked = try #require(receiver.delivered.first { $0.json["kind"] == "person.unlinked" }?.json)
        #expect(unlinked["changes"]?["split_into"]?["new"] == "U0000000004")
        #expect(receiver.delivered.contains { $0.json["kind"] == "person.merged" && $0.json["uid"] == "U0000000002" })
        // LIB-1 agrees with U1 on everything, yet an update does not link it back.
        #expect(try await fixture.ingest([ReviewEvents.patronCompleted("LIB-1", id: "L1b")]) == 1)
        #expect(try await fixture.uid("library", "LIB-1") == "U0000000004")

        // A record not seen yet is pinned: it goes to the named person when it arrives.
        reply = try await fixture.request("POST", "/v1/links", json: #"{"uid":"U0000000003","source":"library","subject":"LIB-NEW"}"#)
        #expect(reply.status == 200)
        #expect(try await fixture.ingest([ReviewEvents.weakPatron("LIB-NEW", id: "LN")]) == 1)
        #expect(try await fixture.uid("library", "LIB-NEW") == "U0000000003")
        await fixture.stop()
    }

    @Test(.timeLimit(.minutes(2)))
    func returningResidentIsLinkedFromItsReview() async throws {
        let fixture = try await ReviewFixture()
        #expect(try await fixture.ingest([
            ReviewEvents.resident("000000001", id: "R1"), ReviewEvents.movedOut("000000001", id: "R2"),
            ReviewEvents.resident("000000005", id: "R3"),
        ]) == 3)
        let item = try #require(try await fixture.reviews().first)
        #expect(item["source"] == "resident" && item["subject"] == "000000005")
        let reasons = item["candidates"]?.arrayValue?.first?["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(reasons.last == MatchReasons.returnNote)
        // The earlier registration is no longer active: linking the new one to it is a 再転入, allowed.
        let id = try #require(item["id"]?.stringValue)
        let reply = try await fixture.request("POST", "/v1/reviews/\(id)/link", json: #"{"uid":"U0000000001"}"#)
        #expect(reply.status == 200, "\(reply.json)")
        #expect(try await fixture.uid("resident", "000000005") == "U0000000001")
        let person = try await fixture.request("GET", "/v1/persons/U0000000001").json
        #expect(person["status"] == "active")
        await fixture.stop()
    }

    @Test(.timeLimit(.minutes(3)))
    func reviewsNameLiveUIDsAndRebuildReproducesEveryDecision() async throws {
        let fixture = try await ReviewFixture()
        #expect(try await fixture.ingest([
            ReviewEvents.tax("TX-1", id: "T1", atena: "000000001"),  // reserves U1
            ReviewEvents.fullPatron("LIB-5", id: "L5"),  // U2
            ReviewEvents.weakPatron("LIB-9", id: "L9"),  // U3, review naming U2
        ]) == 3)
        let item = try #require(try await fixture.reviews().first { $0["subject"] == "LIB-9" })
        #expect(item["candidates"]?.arrayValue?.map { $0["uid"]?.stringValue } == ["U0000000002"])

        // The registry event lands on U1; LIB-5 (U2) joins it by merge, and U2 retires.
        #expect(try await fixture.ingest([ReviewEvents.resident("000000001", id: "R1")]) == 1)
        #expect(try await fixture.request("GET", "/v1/persons/U0000000002").json["merged_into"] == "U0000000001")
        for review in try await fixture.reviews() {
            for candidate in review["candidates"]?.arrayValue ?? [] {
                let uid = try #require(candidate["uid"]?.stringValue)
                let view = try await fixture.request("GET", "/v1/persons/\(uid)").json
                #expect(view["merged_into"] == nil, "\(review["id"]?.stringValue ?? "?") names retired \(uid)")
            }
        }
        let after = try #require(try await fixture.reviews().first { $0["id"] == item["id"] })
        #expect(after["candidates"]?.arrayValue?.map { $0["uid"]?.stringValue } == ["U0000000001"])

        // An official who saw U2 before the merge links to it: it stands for U1, and the log says U1.
        let id = try #require(item["id"]?.stringValue)
        var reply = try await fixture.request("POST", "/v1/reviews/\(id)/link", json: #"{"uid":"U0000000002"}"#)
        #expect(reply.status == 200 && reply.json["uid"] == "U0000000001", "\(reply.json)")
        #expect(try fixture.logged(reply.json["lsn"]?.integerValue)?.event.data["uid"] == "U0000000001")

        // More decisions: a rejection, an unlink, a pin.
        #expect(try await fixture.ingest([ReviewEvents.weakPatron("LIB-3", id: "L3")]) == 1)
        let open = try #require(try await fixture.reviews().first { $0["subject"] == "LIB-3" })
        reply = try await fixture.request("POST", "/v1/reviews/\(open["id"]?.stringValue ?? "")/reject")
        #expect(reply.status == 200)
        reply = try await fixture.request("DELETE", "/v1/links", json: #"{"uid":"U0000000001","source":"library","subject":"LIB-5"}"#)
        #expect(reply.status == 200)
        reply = try await fixture.request("POST", "/v1/links", json: #"{"uid":"U0000000001","source":"library","subject":"LIB-LATER"}"#)
        #expect(reply.status == 200)
        // A review left open, naming U1 and LIB-3's U5 (another town again).
        #expect(try await fixture.ingest([ReviewEvents.weakPatron("LIB-8", id: "L8", address: "福岡県福岡市中央区1-1")]) == 1)

        let receiver = fixture.receiver
        #expect(await fixture.wait { try await fixture.request("GET", "/v1/status").json["subscriptions"]?["mirror"]?["backlog"] == 0 })
        let before = try await snapshot(fixture)
        #expect(before.reviews.count == 1 && before.persons.count >= 6, "\(before.reviews)")
        let sent = receiver.requests.count
        let planned = plannedDeltas(try await fixture.request("GET", "/v1/status").json["subscriptions"]?["mirror"])

        #expect(try await fixture.rebuild())
        let rebuilt = try await snapshot(fixture)
        #expect(rebuilt.reviews == before.reviews)
        #expect(rebuilt.persons == before.persons)
        // The rebuild has committed (with any delta it planned): the outbox holds as many as before,
        // and with nothing pending or in flight, the receiver has seen every request there will be.
        let mirror = try await fixture.request("GET", "/v1/status").json["subscriptions"]?["mirror"]
        #expect(plannedDeltas(mirror) == planned, "the rebuild planned deltas: \(mirror ?? .null)")
        #expect(await fixture.wait {
            let mirror = try await fixture.request("GET", "/v1/status").json["subscriptions"]?["mirror"]
            return mirror?["backlog"] == 0 && mirror?["in_flight"] == 0
        })
        #expect(receiver.requests.count == sent, "rebuild re-sent \(receiver.requests.dropFirst(sent).map(\.id))")
        await fixture.stop()
    }

    /// Every person view (U1 upward until a 404) and the open reviews.
    func snapshot(_ fixture: ReviewFixture) async throws -> (persons: [JSONValue], reviews: [JSONValue]) {
        var persons: [JSONValue] = []
        for number in 1... {
            let reply = try await fixture.request("GET", "/v1/persons/\(Projection.formatUID(Int64(number)))")
            guard reply.status == 200 else { break }
            persons.append(reply.json)
        }
        return (persons, try await fixture.reviews())
    }

    @Test(.timeLimit(.minutes(2)))
    func configuredWeightsDecide() async throws {
        // Disagreeing addresses weigh -6 instead of -1: the weak patron is no longer a review.
        let linking = try JSONParser.parse(Array(#"{"weights": {"address": {"disagree": -6}}}"#.utf8))
        let fixture = try await ReviewFixture(linking: linking)
        #expect(fixture.service.projection.weights.weight(.address, .disagree) == -6)
        #expect(try await fixture.ingest([
            ReviewEvents.resident("000000001", id: "R1"), ReviewEvents.weakPatron("LIB-9", id: "L9"),
        ]) == 2)
        #expect(try await fixture.reviews().isEmpty)
        #expect(try await fixture.uid("library", "LIB-9") == "U0000000002")
        #expect(try await fixture.rebuild())
        #expect(try await fixture.reviews().isEmpty)
        await fixture.stop()
    }
}

/// An object's members by key, so that key order does not matter in a comparison.
func fields(_ object: JSONObject) -> [String: JSONValue] {
    var result: [String: JSONValue] = [:]
    for member in object { result[member.key] = member.value }
    return result
}

extension JSONValue {
    /// A JSON number as a Double, whether written as an integer or not.
    var doubleLike: Double? {
        switch self {
        case .double(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
}
