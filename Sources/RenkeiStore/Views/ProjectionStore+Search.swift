public import RenkeiCore

extension ProjectionStore {
    /// Scores every stored person view with `search` (issue 18, `GET /v1/persons/search`) and
    /// returns the best `limit` hits. A pass over the `persons` table: one read-only statement,
    /// each view parsed once.
    /// - Throws: ``StoreError``.
    public static func search(_ search: PersonSearch, limit: Int, in db: Database) throws -> [PersonSearch.Hit] {
        var hits: [PersonSearch.Hit] = []
        let statement = try db.prepare("SELECT view FROM persons")
        defer { statement.reset() }
        try statement.bind([])
        while try statement.step() {
            guard let bytes = statement.blob(0), let view = (try? JSONParser.parse(bytes))?.objectValue else { continue }
            if let hit = search.hit(view) {
                hits.append(hit)
                // Keep memory bounded on a broad query: trim to the best once the list grows.
                if hits.count >= limit * 8 + 64 { hits = PersonSearch.ranked(hits, limit: limit) }
            }
        }
        return PersonSearch.ranked(hits, limit: limit)
    }
}
