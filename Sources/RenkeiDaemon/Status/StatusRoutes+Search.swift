import Foundation
import RenkeiCore
import RenkeiStore
import RenkeiSystem

extension StatusRoutes {
    /// `GET /v1/persons/search?q=TEXT&birth_date=…&limit=N` (contract §7 "Search", issue 18):
    /// {`persons`: [{`uid`, `name`, `name_kana`, `birth_date`, `score`}]}, best first.
    ///
    /// A read for viewers; on the access log like every persons read (its target holds what was asked).
    func search(_ request: HTTPRequest, in db: Database) throws -> Answer {
        switch PersonSearchRequest.parse(query: request.query) {
        case .failure(let problem):
            return .error(400, problem.message)
        case .success(let asked):
            let hits = try Self.search(asked, sources: Array(service.configuration.sources.keys), in: db)
            return .json(200, ["persons": .array(hits.map(\.json))])
        }
    }

    /// The search the socket and the console share: a uid, 宛名番号 or any source's subject typed
    /// exactly finds that person first (score 1); then the folded name, kana or address.
    static func search(_ asked: PersonSearchRequest, sources: [String], in db: Database) throws -> [PersonSearch.Hit] {
        let text = asked.text.trimmingCharacters(in: .whitespaces)
        var exact: [PersonSearch.Hit] = []
        var seen = Set<String>()
        func add(uid: String) throws {
            guard !seen.contains(uid), let view = try ProjectionStore.view(uid: uid, in: db),
                view["merged_into"] == nil || view["merged_into"]?.isNull == true
            else { return }
            if let birthDate = asked.birthDate, view["birth_date"]?.stringValue != birthDate { return }
            seen.insert(uid)
            exact.append(
                PersonSearch.Hit(
                    uid: uid, name: view["name"]?.stringValue, nameKana: view["name_kana"]?.stringValue,
                    birthDate: view["birth_date"]?.stringValue, score: 1))
        }
        if !text.isEmpty, text.count <= 128 {
            if text.utf8.count == 11, text.hasPrefix("U") { try add(uid: text) }
            for source in sources.sorted() {
                if let uid = try ProjectionStore.uid(source: source, subject: text, in: db) { try add(uid: uid) }
            }
        }
        // An identifier typed (ASCII only: a uid, 宛名番号 or subject) that found its person is the answer:
        // no pass over every view for it.
        if !exact.isEmpty, text.unicodeScalars.allSatisfy(\.isASCII) { return exact }
        let search = PersonSearch(text: text, birthDate: asked.birthDate)
        var hits = exact
        if !search.isEmpty {
            for hit in try ProjectionStore.search(search, limit: asked.limit, in: db) where !seen.contains(hit.uid) {
                hits.append(hit)
            }
        }
        return Array(hits.prefix(asked.limit))
    }
}

/// The parameters of a person search, checked (the socket's query and the console's form alike).
struct PersonSearchRequest: Sendable {
    /// Why the parameters were refused: a message naming the parameter.
    struct Problem: Error, Sendable {
        var message: String
    }

    /// What was typed in the text box (may be empty when a birth date is given).
    var text: String
    /// The birth date, converted to `YYYY-MM-DD`.
    var birthDate: String?
    /// How many hits at most (default 20, at most 200).
    var limit: Int

    /// Reads `q`, `birth_date` and `limit`; the failure is a message naming the parameter.
    static func parse(query: [String: String]) -> Result<PersonSearchRequest, Problem> {
        let text = query["q"] ?? ""
        guard text.count <= 200 else { return .failure(Problem(message: "q: at most 200 characters")) }
        var birthDate: String?
        if let typed = query["birth_date"], !typed.trimmingCharacters(in: .whitespaces).isEmpty {
            switch SearchDate.isoDate(typed) {
            case .success(let date): birthDate = date
            case .failure(let failure): return .failure(Problem(message: "birth_date: \(failure.description)"))
            }
        }
        var limit = 20
        if let typed = query["limit"] {
            guard let value = Int(typed), (1...200).contains(value) else {
                return .failure(Problem(message: "limit: must be a whole number from 1 to 200"))
            }
            limit = value
        }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty || birthDate != nil else {
            return .failure(Problem(message: "q: give a name, kana, address, 宛名番号 or subject (or birth_date)"))
        }
        return .success(PersonSearchRequest(text: text, birthDate: birthDate, limit: limit))
    }
}
