import RenkeiSystem

/// The status socket as a service: it answers on its own threads from ``HTTPServer/start()`` on;
/// cancelled (last of all), it stops accepting and lets requests in progress finish (up to 2 s).
struct StatusServerService: Service {
    let server: HTTPServer

    var name: String { "status server" }

    func run() async {
        await waitUntilCancelled()
        await server.stop(deadline: .seconds(2))
    }
}
