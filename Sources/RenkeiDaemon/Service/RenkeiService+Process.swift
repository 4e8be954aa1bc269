import RenkeiHTTP
import RenkeiSystem

extension RenkeiService {
    /// Process-wide set-up that must happen once, in `main`, before any thread starts
    /// (libcurl's `curl_global_init`), and the file-creation mask `0077`: what the daemon creates
    /// (database, WAL, backups, `rejected/` copies) is its own, whatever umask it was started with.
    public static func prepareProcess() {
        FileCreationMask.restrictToOwner()
        HTTPClient.globalInit()
    }
}
