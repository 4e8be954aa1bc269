import RenkeiCore
import Testing

/// contract/examples/README.md, replayed through the projection.
///
/// With matching: line 5 links to U1 (髙/高, half-width kana, address forms) and line 11's child to
/// U3 (hiragana, 髙/高), so the sample ends with exactly six uids, as the README states.
@Suite struct ProjectionSampleTests {
    enum Expected {
        static let ichiro = "U0000000001"
        static let hanako = "U0000000002"
        static let yota = "U0000000003"
        static let sakura = "U0000000004"
        /// README: matched to U0000000001 (髙/高, half-width kana, address forms).
        static let libraryIchiro = "U0000000001"
        static let sato = "U0000000005"
        static let suzuki = "U0000000006"
        /// README: matched to U0000000003.
        static let childcareYota = "U0000000003"
    }

    let projection: Projection

    init() throws {
        projection = EventLog.project(try EventLog.sampleLog())
    }

    func view(_ uid: String) throws -> JSONObject { try #require(projection.personView(uid)) }

    @Test func residentsAreLinkedByKey() throws {
        let names = [
            Expected.ichiro: "髙橋 一郎", Expected.hanako: "髙橋 花子", Expected.yota: "髙橋 陽太", Expected.sakura: "渡邊 さくら",
        ]
        for (uid, name) in names {
            let person = try view(uid)
            #expect(person["name"]?.stringValue.map { Array($0.unicodeScalars) } == Array(name.unicodeScalars))
            let resident = try #require(person["links"]?.arrayValue?.first { $0["source"] == "resident" })
            #expect(resident["method"] == "key")
        }
        #expect(projection.lsn == 15)
        #expect(projection.personCount == 6)
    }

    @Test func unmatchedRecordsGetUnregisteredUIDs() throws {
        let ichiro = try view(Expected.libraryIchiro)
        #expect(ichiro.text("status") == #""active""#)
        let library = try #require(ichiro["links"]?.arrayValue?.first { $0["source"] == "library" })
        #expect(library["method"] == "match")
        #expect(library["subject"] == "LIB-20001")
        guard case .double(let score)? = library["score"] else { Issue.record("no score"); return }
        #expect(score >= 0.92 && score < 1)
        let reasons = (library["reasons"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(reasons.contains("name: 異体字 高/髙 (variant kanji)"))
        #expect(reasons.contains("birth_date: 一致 (exact)"))
        #expect(reasons.contains { $0.hasPrefix("name_kana: 半角カナ") })
        #expect(reasons.contains { $0.hasPrefix("address: 正規化して一致") })
        #expect(!reasons.joined().contains("九段"))
        #expect(ichiro.text("library") == #"{"patron_no":"LIB-20001","status":"active"}"#)
        // The registry wins identity fields.
        #expect(ichiro.text("name") == #""髙橋 一郎""#)

        let sato = try view(Expected.sato)
        #expect(sato.text("status") == #""unregistered""#)
        #expect(sato.text("name") == #""佐藤 健""#)

        let suzuki = try view(Expected.suzuki)
        #expect(suzuki.text("status") == #""unregistered""#)
        #expect(suzuki.text("address") == #""神奈川県横浜市中区本町6丁目50番地""#)
        #expect(suzuki.text("tax") == #"{"fiscal_year":2026,"taxable":true,"income_levy":0,"per_capita_levy":5000}"#)
    }

    @Test func taxIsKeyLinked() throws {
        #expect(try view(Expected.ichiro)["tax"]?["taxable"] == true)
        #expect(try view(Expected.hanako)["tax"]?["taxable"] == false)
        #expect(try view(Expected.sakura)["tax"]?["taxable"] == false)
        #expect(try view(Expected.yota).text("tax") == "null")
        let links = try view(Expected.ichiro)["links"]?.arrayValue ?? []
        #expect(links.map { $0["source"]?.stringValue ?? "" } == ["resident", "library", "tax"])
        #expect(links[2].serializedString == #"{"source":"tax","subject":"TX-900001","method":"key"}"#)
    }

    @Test func childcareAndGuardian() throws {
        #expect(try view(Expected.ichiro).text("guardian_of") == "[\"\(Expected.childcareYota)\"]")
        let child = try view(Expected.childcareYota)
        #expect(
            child.text("childcare")
                == #"{"child_no":"CH-3001","status":"enrolled","facility_code":"F-101","certification":"3","monthly_fee":31500}"#)
        let link = try #require(child["links"]?.arrayValue?.first { $0["source"] == "childcare" })
        #expect(link["method"] == "match")
    }

    @Test func moveBumpsVersionByOne() throws {
        let sakura = try view(Expected.sakura)
        #expect(sakura.text("address") == #""東京都千代田区一番町10番地2""#)
        #expect(sakura.text("postal_code") == #""102-0082""#)
        // registered (1), tax assessed (2), moved (3).
        #expect(sakura["version"] == 3)
        #expect(sakura["lsn"] == 14)
    }

    @Test func movedOutLeavesHousehold() throws {
        let hanako = try view(Expected.hanako)
        #expect(hanako.text("status") == #""moved_out""#)
        #expect(hanako.text("household_no") == #""H000501""#)
        #expect(hanako["lsn"] == 15)

        let h501 = try #require(projection.householdView("H000501"))
        #expect(h501.text("members") == "[\"\(Expected.ichiro)\",\"\(Expected.yota)\"]")
        #expect(h501["all_members_tax_exempt"] == false)
        let h502 = try #require(projection.householdView("H000502"))
        #expect(h502.text("members") == "[\"\(Expected.sakura)\"]")
        #expect(h502["all_members_tax_exempt"] == true)
        #expect(projection.householdView("H999999") == nil)
    }

    @Test func viewHasStableShape() throws {
        for number in 1...6 {
            let uid = Projection.formatUID(Int64(number))
            #expect(try view(uid).keys == PersonRecord.viewFields)
        }
        #expect(projection.personView("U0000000007") == nil)
    }

    @Test func myNumberStaysOutOfReplies() throws {
        #expect(try view(Expected.ichiro).text("my_number") == #""123456789018""#)
        for number in 1...6 {
            let reply = try #require(projection.personReply(Projection.formatUID(Int64(number)), revealProtected: true))
            #expect(!JSONValue.object(reply).serializedString.contains("123456789018"))
            #expect(reply["my_number"] == nil)
        }
        #expect(projection.personReply(Expected.ichiro)?["my_number_on_file"] == true)
        #expect(projection.personReply(Expected.hanako)?["my_number_on_file"] == false)
    }
}
