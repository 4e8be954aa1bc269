/// Sixteen bytes of a ``MatchSignature``, kept beside the uid number in the blocking index's lists,
/// so that most of a record's candidates (people born the same day, namesakes born another day) are
/// dismissed while the list is read, without fetching their signatures from all over memory.
///
/// It holds the birth date, one-byte tags of the name and kana hashes (equal hashes give equal
/// tags; a tag is 0 only for a missing field) and the name and kana sketches folded to 16 bits.
/// From these, ``MatchDigest/Bound`` gives an upper bound of the total weight the full comparison
/// could reach; a candidate is dismissed only when that bound is too low for the decision to keep it.
struct MatchDigest: Sendable, Hashable {
    /// The eight digits of the birth date, one per nibble, the first on top (lossless: a packed
    /// date holds only digits); all ones (never a digit) when the date is missing.
    var birthDate: UInt32 = .max
    /// Tags of the exact, width-folded and variant-folded name hashes (bytes 0–2) and the folded
    /// name's length, clamped to 255 (byte 3).
    var name: UInt32 = 0
    /// Tags of the exact, strong and weak kana hashes (bytes 0–2) and the strong kana's length,
    /// clamped to 255 (byte 3).
    var kana: UInt32 = 0
    /// The folded name's sketch bits (low half) and the strong kana's (high half), each folded to
    /// 16 bits by OR-ing its four quarters.
    var sketches: UInt32 = 0

    /// The digest of a signature.
    init(_ signature: MatchSignature) {
        birthDate = signature.birthDate == 0 ? .max : Self.nibbles(signature.birthDate)
        name = Self.tags(signature.nameExact, signature.nameWidth, signature.nameFoldedHash, signature.nameFolded)
        kana = Self.tags(signature.kanaExact, signature.kanaStrongHash, signature.kanaWeak, signature.kanaStrong)
        sketches = UInt32(Self.fold(signature.nameFolded.bits)) | UInt32(Self.fold(signature.kanaStrong.bits)) << 16
    }

    /// One byte of a hash: equal hashes have equal tags, and only 0 has the tag 0.
    static func tag(_ hash: UInt64) -> UInt32 {
        hash == 0 ? 0 : Swift.max(1, UInt32(truncatingIfNeeded: MatchProfile.mix(hash) >> 56))
    }

    private static func tags(_ exact: UInt64, _ folded: UInt64, _ weak: UInt64, _ sketch: MatchSignature.Sketch) -> UInt32 {
        tag(exact) | tag(folded) << 8 | tag(weak) << 16 | UInt32(Swift.min(sketch.count, 255)) << 24
    }

    /// The 64 sketch bits OR-ed down to 16. Two keys one edit apart differ in at most two sketch
    /// bits, and folding never makes more bits differ, so the folded test rules out no such pair.
    static func fold(_ bits: UInt64) -> UInt16 {
        UInt16(truncatingIfNeeded: bits | bits >> 16 | bits >> 32 | bits >> 48)
    }

    /// A packed date's eight digit bytes (``MatchProfile/packedDate(_:)``) as eight nibbles.
    static func nibbles(_ packed: UInt64) -> UInt32 {
        var x = packed & 0x0F0F_0F0F_0F0F_0F0F
        x = (x | x >> 4) & 0x00FF_00FF_00FF_00FF
        x = (x | x >> 8) & 0x0000_FFFF_0000_FFFF
        return UInt32(truncatingIfNeeded: x | x >> 16)
    }

    /// Eight nibbles back as a packed date (the inverse of ``nibbles(_:)``).
    @inline(__always)
    static func packedDate(_ nibbles: UInt32) -> UInt64 {
        var x = UInt64(nibbles)
        x = (x | x << 16) & 0x0000_FFFF_0000_FFFF
        x = (x | x << 8) & 0x00FF_00FF_00FF_00FF
        x = (x | x << 4) & 0x0F0F_0F0F_0F0F_0F0F
        return x | 0x3030_3030_3030_3030
    }

    /// Whether two folded sketches (lengths from byte 3 of ``name`` or ``kana``) allow one edit:
    /// true whenever ``MatchSignature/Sketch/mayBeOneEditFrom(_:)`` is (clamping a length to 255
    /// never widens a gap, folding never adds a differing bit).
    @inline(__always)
    static func mayBeOneEdit(_ countA: UInt32, _ bitsA: UInt32, _ countB: UInt32, _ bitsB: UInt32) -> Bool {
        countA != 0 && countB != 0 && (countA > countB ? countA - countB : countB - countA) <= 1
            && ((bitsA ^ bitsB) & 0xFFFF).nonzeroBitCount <= 2
    }
}

extension MatchDigest {
    /// An upper bound of the total weight of a record against any candidate with a given digest,
    /// and the bound below which ``MatchIndex/decide(_:weights:thresholds:household:maxReview:include:)``
    /// keeps no candidate: a candidate whose bound is at most ``cutoff`` can be neither linked,
    /// nor reviewed, nor the runner-up that makes a link ambiguous.
    ///
    /// The bound takes the birth date's weight as the comparison finds it and, for the other
    /// fields, the highest weight among the levels the digests leave possible (for sex and address,
    /// which the digest does not hold: the highest at any level, or the missing weight when the
    /// record lacks the field). It adds the terms in the order ``MatchComparison`` adds them:
    /// rounding is monotone, so the computed bound is never below the computed total. Weights from
    /// configuration need no particular sign or order.
    struct Bound {
        private let record: MatchDigest
        /// The record's packed birth date (0: missing).
        private let recordDate: UInt64
        private let prior: Double
        /// The weights of one text field by which of its digest tags agree.
        private struct TextLevels {
            /// Field missing on either side.
            var missing: Double
            /// Tag 0 agrees (the exact hash).
            var exact: Double
            /// Tag 1 agrees (width-folded name, strong kana).
            var normalised: Double
            /// Tag 2 agrees (variant-folded name, weak kana).
            var folded: Double
            /// The sketches allow one edit.
            var partial: Double
            /// Nothing agrees (for names, the best of disagree and surname only).
            var floor: Double

            /// The highest weight two tag words (``MatchDigest/name`` or ``MatchDigest/kana``) and
            /// their folded sketches leave possible.
            @inline(__always)
            func best(_ a: UInt32, _ b: UInt32, sketches sa: UInt32, _ sb: UInt32) -> Double {
                guard a & 0xFF != 0, b & 0xFF != 0 else { return missing }
                var weight = floor
                if a & 0xFF == b & 0xFF { weight = Swift.max(weight, exact) }
                if (a ^ b) & 0xFF00 == 0 { weight = Swift.max(weight, normalised) }
                if (a ^ b) & 0xFF_0000 == 0 { weight = Swift.max(weight, folded) }
                if MatchDigest.mayBeOneEdit(a >> 24, sa, b >> 24, sb) { weight = Swift.max(weight, partial) }
                return weight
            }
        }

        /// Name weights: missing, exact, normalised, variant, one edit, and the best of disagree,
        /// surname only and (for a Latin-script record, whose words may agree in another order or
        /// with initials, give one of the names only, or share one word, whatever the sketches say)
        /// the fuzzy, partial and word-only levels.
        private let name: TextLevels
        /// Kana weights: missing, exact, normalised, fuzzy, one edit, disagree.
        private let kana: TextLevels
        /// The weights (birth date levels are looked up as the comparison finds them).
        private let weights: MatchWeights
        /// The best weight sex and address can add for this record.
        private let sex: Double, address: Double
        /// The same-household weight, when the decision gives a household and the weight is positive.
        private let household: Double?
        /// Candidates whose bound is at most this are dismissed.
        let cutoff: Double

        /// The bound for `record` under the decision's weights, thresholds and household.
        init(_ record: MatchSignature, weights w: MatchWeights, thresholds: LinkingThresholds, household: String?) {
            self.record = MatchDigest(record)
            recordDate = record.birthDate
            prior = w.prior
            name = TextLevels(
                missing: w.weight(.name, .missing), exact: w.weight(.name, .exact), normalised: w.weight(.name, .normalised),
                folded: w.weight(.name, .variant), partial: w.weight(.name, .partial),
                floor: Swift.max(
                    w.weight(.name, .disagree), MatchComparison.surnameOnlyWeight,
                    record.nameLatin
                        ? Swift.max(w.weight(.name, .fuzzy), w.weight(.name, .partial), w.weight(.name, .wordOnly)) : -.infinity))
            kana = TextLevels(
                missing: w.weight(.nameKana, .missing), exact: w.weight(.nameKana, .exact),
                normalised: w.weight(.nameKana, .normalised), folded: w.weight(.nameKana, .fuzzy),
                partial: w.weight(.nameKana, .partial), floor: w.weight(.nameKana, .disagree))
            weights = w
            sex = record.sex != 0 ? w.highestWeight(.sex) : w.weight(.sex, .missing)
            address = record.addressExact != 0 ? w.highestWeight(.address) : w.weight(.address, .missing)
            self.household = household != nil && w.sameHousehold > 0 ? w.sameHousehold : nil
            // A runner-up can only make a link ambiguous when the best scores at least `auto_link`
            // (total above the auto-link ceiling) and it lies within the margin of the best: one at
            // or below that ceiling less the margin never changes a decision, however far above
            // the prior it is (estimated weights put the prior near −20, where prior + 8 would
            // keep every same-day stranger).
            let runnerUp = Swift.max(w.prior + MatchIndex.keptAbovePrior, Self.reviewCeiling(thresholds.autoLink) - thresholds.margin)
            cutoff = Swift.min(runnerUp, Self.reviewCeiling(thresholds.review))
        }

        /// Whether a candidate with this digest could be kept by the decision (never false when it
        /// could; true for some that are not).
        @inline(__always)
        func mayMatter(_ candidate: MatchDigest) -> Bool { total(candidate) > cutoff }

        /// The highest total the full comparison could give against a candidate with this digest.
        @inline(__always)
        func total(_ candidate: MatchDigest) -> Double {
            var total = prior + nameWeight(candidate) + kanaWeight(candidate) + dateWeight(candidate) + sex + address
            if let household { total += household }
            return total
        }

        /// The birth date's weight exactly as the comparison finds it.
        @inline(__always)
        private func dateWeight(_ candidate: MatchDigest) -> Double {
            let date = candidate.birthDate == .max ? 0 : MatchDigest.packedDate(candidate.birthDate)
            return weights.weight(.birthDate, MatchComparison.date(recordDate, date))
        }

        @inline(__always)
        private func nameWeight(_ candidate: MatchDigest) -> Double {
            name.best(record.name, candidate.name, sketches: record.sketches & 0xFFFF, candidate.sketches & 0xFFFF)
        }

        @inline(__always)
        private func kanaWeight(_ candidate: MatchDigest) -> Double {
            kana.best(record.kana, candidate.kana, sketches: record.sketches >> 16, candidate.sketches >> 16)
        }

        /// A total at or below which no score reaches `review`: the largest whole number whose odds
        /// are at most half the odds of `review` (the factor 2 covers the rounding of
        /// ``MatchWeights/score(_:)``, which never rounds up). −∞ when `review` ≤ 0, +∞ when ≥ 1.
        static func reviewCeiling(_ review: Double) -> Double {
            guard review > 0 else { return -.infinity }
            guard review < 1 else { return .infinity }
            let odds = review / (1 - review)
            var ceiling = 60
            while ceiling >= -60 {
                if Double(sign: .plus, exponent: ceiling + 1, significand: 1) <= odds { return Double(ceiling) }
                ceiling -= 1
            }
            return -.infinity
        }
    }
}
