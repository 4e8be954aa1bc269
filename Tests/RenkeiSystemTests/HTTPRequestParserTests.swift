import Testing
@testable import RenkeiSystem

@Suite struct HTTPRequestParserTests {
    /// Feeds `text` (optionally one byte at a time) and collects events until the parser needs more.
    func parse(
        _ text: String, maxHeaderBytes: Int = 16384, maxBodyBytes: Int = 1 << 20, byteByByte: Bool = false
    ) throws(HTTPParseError) -> [HTTPRequestParser.Event] {
        var parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        var events: [HTTPRequestParser.Event] = []
        let bytes = Array(text.utf8)
        let pieces = byteByByte ? bytes.map { [$0] } : [bytes]
        for piece in pieces {
            parser.append(piece)
            while let event = try parser.next() { events.append(event) }
        }
        return events
    }

    func status(_ text: String, maxHeaderBytes: Int = 16384, maxBodyBytes: Int = 1 << 20) -> Int? {
        do {
            _ = try parse(text, maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
            return nil
        } catch {
            return error.status
        }
    }

    func head(_ events: [HTTPRequestParser.Event]) -> HTTPRequestHead? {
        for case .head(let head) in events { return head }
        return nil
    }

    func body(_ events: [HTTPRequestParser.Event]) -> String? {
        for case .end(let body) in events { return String(decoding: body, as: UTF8.self) }
        return nil
    }

    @Test(arguments: [false, true]) func simpleGet(byteByByte: Bool) throws {
        let events = try parse(
            "GET /v1/persons/U0000000001?reveal=protected HTTP/1.1\r\nHost: renkei\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
            byteByByte: byteByByte)
        let head = try #require(self.head(events))
        #expect(head.method == "GET")
        #expect(head.path == "/v1/persons/U0000000001")
        #expect(head.query == ["reveal": "protected"])
        #expect(head.headers["HOST"] == "renkei")
        #expect(head.headers.values("x-a") == ["1", "2"])
        #expect(head.keepAlive)
        #expect(body(events) == "")
    }

    @Test(arguments: [false, true]) func contentLengthBody(byteByByte: Bool) throws {
        let events = try parse("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", byteByByte: byteByByte)
        #expect(body(events) == "hello")
    }

    @Test(arguments: [false, true]) func chunkedBodyWithExtensionsAndTrailers(byteByByte: Bool) throws {
        let events = try parse(
            "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nwiki\r\nA\r\n0123456789\r\n0\r\nX-T: y\r\n\r\n",
            byteByByte: byteByByte)
        #expect(head(events)?.isChunked == true)
        #expect(body(events) == "wiki0123456789")
    }

    @Test func bareLineFeedsAndLeadingEmptyLinesAreAccepted() throws {
        let events = try parse("\r\nGET / HTTP/1.1\nHost: a\n\n")
        #expect(head(events)?.path == "/")
    }

    @Test func twoRequestsInOneBuffer() throws {
        let events = try parse("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
        #expect(events.count == 4)
    }

    @Test func percentDecodingAndAbsoluteForm() throws {
        let events = try parse("GET http://renkei/v1/persons?source=library&subject=%E5%9B%B3+1 HTTP/1.1\r\n\r\n")
        #expect(head(events)?.path == "/v1/persons")
        #expect(head(events)?.query["subject"] == "図 1")
    }

    @Test func connectionSemantics() throws {
        #expect(head(try parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))?.keepAlive == false)
        #expect(head(try parse("GET / HTTP/1.0\r\n\r\n"))?.keepAlive == false)
        #expect(head(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"))?.keepAlive == true)
        #expect(head(try parse("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n"))?
            .expectsContinue == true)
    }

    @Test func equalDuplicateContentLengthsAreAccepted() throws {
        #expect(body(try parse("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab")) == "ab")
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",  // obs-fold
        "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",  // NUL
        "GET / HTTP/1.1\r\nBad Name: a\r\n\r\n",  // space in name
        "GET / HTTP/1.1\r\nX : a\r\n\r\n",  // space before colon
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",  // differing duplicates
        "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /%zz HTTP/1.1\r\n\r\n",
        "GET /%00 HTTP/1.1\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 extra\r\n\r\n",
        "GET / HTTX/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
    ]) func malformedRequestsAre400(text: String) {
        #expect(status(text) == 400)
    }

    @Test func oversizeBodiesAre413() {
        #expect(status("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", maxBodyBytes: 10) == 413)
        #expect(status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 413)
        #expect(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n4\r\n", maxBodyBytes: 10) == 413)
    }

    @Test func oversizeHeadsAre431() {
        let long = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200)
        #expect(status(long, maxHeaderBytes: 100) == 431)  // no end of head yet
        #expect(status(long + "\r\n\r\n", maxHeaderBytes: 100) == 431)
    }

    @Test func otherStatuses() {
        #expect(status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501)
        #expect(status("GET / HTTP/2.0\r\n\r\n") == 505)
        #expect(status("GET / HTTP/1.1\r\nExpect: teapot\r\n\r\n") == 417)
    }

    @Test func errorsAreSticky() {
        var parser = HTTPRequestParser()
        parser.append(Array("BAD\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.append(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test func pseudoRandomInputNeverCrashes() {
        var seed: UInt64 = 0x5EED
        let alphabet = Array("GET POST / HTTP/1.1\r\n:0123456789abcdef;Transfer-Encoding chunked Content-Length \0%".utf8)
        for _ in 0..<3000 {
            var parser = HTTPRequestParser(maxHeaderBytes: 256, maxBodyBytes: 256)
            for _ in 0..<64 {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let count = Int(seed >> 60)
                let bytes = (0..<count).map { i in alphabet[Int((seed >> UInt64(i * 3 % 56)) % UInt64(alphabet.count))] }
                parser.append(bytes)
                do {
                    while try parser.next() != nil {}
                } catch {
                    #expect([400, 413, 417, 431, 501, 505].contains(error.status))
                    break
                }
            }
        }
    }
}
