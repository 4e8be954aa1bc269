import RenkeiHTTP

extension RenkeiService {
    /// Process-wide set-up that must happen once, in `main`, before any thread starts
    /// (libcurl's `curl_global_init`).
    public static func prepareProcess() {
        HTTPClient.globalInit()
    }
}
