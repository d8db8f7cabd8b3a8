// The httpGet and tcpSocket probers against servers this test starts on 127.0.0.1
// (port 0), through NewProber where the probe's wiring matters (named ports).

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "agent/probes/handlers.h"
#include "agent/probes/prober.h"
#include "common/unique_fd.h"

namespace reef::agent::probes {
namespace {

// A listening socket on 127.0.0.1 with a kernel-chosen port.
UniqueFd Listen(int backlog, int* port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd.get(), backlog) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

// A port nothing listens on: bound, then closed.
int ClosedPort() {
  int port = 0;
  UniqueFd fd = Listen(1, &port);
  return port;
}

// A one-connection-at-a-time HTTP/1.1 server: answers each request with what the
// handler returns for its path, after an optional delay; keeps the request heads.
class TestHttpServer {
 public:
  struct Response {
    int status = 200;
    std::string location;
    std::string body;
    absl::Duration delay;
  };
  using Handler = std::function<Response(const std::string& path)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    listener_ = Listen(16, &port_);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    stop_read_ = UniqueFd(fds[0]);
    stop_write_ = UniqueFd(fds[1]);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestHttpServer() {
    stop_write_.Reset();  // wakes every poll below
    thread_.join();
  }

  int port() const { return port_; }
  std::vector<std::string> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  // Waits for fd to be readable: false when stopping or after `timeout`.
  bool WaitReadable(int fd, absl::Duration timeout) {
    pollfd pfds[2] = {{fd, POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    int n = ::poll(pfds, 2, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    return n > 0 && pfds[1].revents == 0;
  }
  // Sleeps up to `d`; true when the server is stopping.
  bool Stopping(absl::Duration d) {
    pollfd pfd = {stop_read_.get(), POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(d))) > 0;
  }

  void Serve() {
    while (WaitReadable(listener_.get(), absl::Seconds(60))) {
      UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn.valid()) continue;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos &&
             WaitReadable(conn.get(), absl::Seconds(5))) {
        ssize_t n = ::read(conn.get(), buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, n);
      }
      {
        absl::MutexLock lock(&mu_);
        requests_.push_back(head);
      }
      size_t start = head.find(' ') + 1;
      std::string path = head.substr(start, head.find(' ', start) - start);
      Response r = handler_(path);
      // The delay ends early when the server stops, so that no test waits on it.
      if (r.delay > absl::ZeroDuration() && Stopping(r.delay)) return;
      std::string out = absl::StrFormat("HTTP/1.1 %d Test\r\nContent-Length: %d\r\n", r.status,
                                        r.body.size());
      if (!r.location.empty()) out += "Location: " + r.location + "\r\n";
      out += "Connection: close\r\n\r\n" + r.body;
      (void)!::write(conn.get(), out.data(), out.size());
    }
  }

  Handler handler_;
  UniqueFd listener_;
  int port_ = 0;
  UniqueFd stop_read_, stop_write_;
  mutable absl::Mutex mu_;
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

HttpGetRequest Request(int port, std::string path = "/healthz") {
  HttpGetRequest r;
  r.host = "127.0.0.1";
  r.port = port;
  r.path = std::move(path);
  return r;
}

TEST_CASE("httpGet: 200 succeeds and the kubelet's headers and the probe's own are sent") {
  TestHttpServer server([](const std::string&) { return TestHttpServer::Response{}; });
  HttpGetRequest r = Request(server.port(), "/healthz?full=1");
  r.headers = {{"X-Probe", "yes"}, {"Host", "web.example"}};
  ProbeOutcome out = HttpGetProbe(r, absl::Seconds(2));
  INFO(out.message);
  CHECK(out.result == ProbeResult::kSuccess);
  REQUIRE(server.requests().size() == 1);
  const std::string head = server.requests()[0];
  INFO(head);
  CHECK(head.starts_with("GET /healthz?full=1 HTTP/1.1\r\n"));
  CHECK(absl::StrContains(head, "\r\nX-Probe: yes\r\n"));
  CHECK(absl::StrContains(head, "\r\nHost: web.example\r\n"));
  CHECK(absl::StrContains(head, "\r\nUser-Agent: kube-probe/"));
  CHECK(absl::StrContains(head, "\r\nAccept: */*\r\n"));
}

TEST_CASE("httpGet: a path without a leading slash gets one") {
  TestHttpServer server([](const std::string&) { return TestHttpServer::Response{}; });
  CHECK(HttpGetProbe(Request(server.port(), "ready"), absl::Seconds(2)).success());
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].starts_with("GET /ready HTTP/1.1"));
}

TEST_CASE("httpGet: 500 fails with the kubelet's message, 399 passes, 400 fails") {
  int status = 500;
  TestHttpServer server([&](const std::string&) {
    TestHttpServer::Response r;
    r.status = status;
    return r;
  });
  ProbeOutcome out = HttpGetProbe(Request(server.port()), absl::Seconds(2));
  CHECK(out.result == ProbeResult::kFailure);
  CHECK(out.message == "HTTP probe failed with statuscode: 500");
  status = 399;
  CHECK(HttpGetProbe(Request(server.port()), absl::Seconds(2)).success());
  status = 400;
  CHECK(HttpGetProbe(Request(server.port()), absl::Seconds(2)).message ==
        "HTTP probe failed with statuscode: 400");
}

TEST_CASE("httpGet: a server slower than the timeout fails within the timeout") {
  TestHttpServer server([](const std::string&) {
    TestHttpServer::Response r;
    r.delay = absl::Seconds(5);
    return r;
  });
  absl::Time start = absl::Now();
  ProbeOutcome out = HttpGetProbe(Request(server.port()), absl::Milliseconds(300));
  absl::Duration took = absl::Now() - start;
  INFO(out.message);
  CHECK(out.result == ProbeResult::kFailure);
  CHECK(out.message == absl::StrFormat("Get \"http://127.0.0.1:%d/healthz\": context deadline "
                                       "exceeded (Client.Timeout exceeded while awaiting headers)",
                                       server.port()));
  CHECK(took < absl::Seconds(2));
}

TEST_CASE("httpGet: connection refused is worded as the kubelet's dial error") {
  const int port = ClosedPort();
  ProbeOutcome out = HttpGetProbe(Request(port), absl::Seconds(2));
  CHECK(out.result == ProbeResult::kFailure);
  CHECK(out.message == absl::StrFormat("Get \"http://127.0.0.1:%d/healthz\": dial tcp "
                                       "127.0.0.1:%d: connect: connection refused",
                                       port, port));
}

TEST_CASE("httpGet: redirects are followed on the same host, not to another") {
  TestHttpServer server([](const std::string& path) {
    TestHttpServer::Response r;
    if (path == "/old") {
      r.status = 302;
      r.location = "/new";
    } else if (path == "/away") {
      r.status = 301;
      r.location = "http://elsewhere.invalid/healthz";  // never looked up
    } else if (path == "/new") {
      r.status = 503;
    }
    return r;
  });
  ProbeOutcome out = HttpGetProbe(Request(server.port(), "/old"), absl::Seconds(2));
  CHECK(out.message == "HTTP probe failed with statuscode: 503");  // /new's answer
  REQUIRE(server.requests().size() == 2);
  CHECK(server.requests()[1].starts_with("GET /new "));

  out = HttpGetProbe(Request(server.port(), "/away"), absl::Seconds(2));
  INFO(out.message);
  CHECK(out.success());
  CHECK(server.requests().size() == 3);
}

TEST_CASE("httpGet: a large body is not read to its end") {
  TestHttpServer server([](const std::string&) {
    TestHttpServer::Response r;
    r.body = std::string(1 << 20, 'x');
    return r;
  });
  ProbeOutcome out = HttpGetProbe(Request(server.port()), absl::Seconds(2));
  CHECK(out.success());
  CHECK(out.message.size() <= 10 * 1024);
}

TEST_CASE("httpGet through NewProber: named port, pod IP as host, missing port errors") {
  TestHttpServer server([](const std::string&) { return TestHttpServer::Response{}; });
  std::unique_ptr<Prober> prober = NewProber(nullptr);
  reef::v1::Probe probe;
  probe.mutable_http_get()->set_path("/healthz");
  probe.mutable_http_get()->set_port("http-web");
  ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  reef::v1::ContainerPort port;
  port.set_name("http-web");
  port.set_container_port(server.port());
  target.ports.push_back(port);
  ProbeOutcome out = prober->Run(probe, target, absl::Seconds(2));
  INFO(out.message);
  CHECK(out.success());
  CHECK(server.requests().size() == 1);

  probe.mutable_http_get()->set_port("metrics");
  out = prober->Run(probe, target, absl::Seconds(2));
  CHECK(out.result == ProbeResult::kError);  // thrown away, not counted as a failure
  CHECK(out.message == "port metrics not found");
  probe.mutable_http_get()->set_port(std::to_string(server.port()));
  CHECK(prober->Run(probe, target, absl::Seconds(2)).success());
}

TEST_CASE("ResolvePort: numbers, names and nonsense") {
  reef::v1::ContainerPort web;
  web.set_name("web");
  web.set_container_port(8080);
  CHECK(*ResolvePort("web", {web}) == 8080);
  CHECK(*ResolvePort("80", {web}) == 80);
  CHECK(ResolvePort("0", {web}).status().message() == "invalid port number: 0");
  CHECK(ResolvePort("70000", {web}).status().message() == "invalid port number: 70000");
  CHECK(ResolvePort("db", {web}).status().message() == "port db not found");
}

TEST_CASE("tcpSocket: an open port succeeds, a closed one is refused") {
  int port = 0;
  UniqueFd listener = Listen(4, &port);
  CHECK(TcpProbe("127.0.0.1", port, absl::Seconds(1)).success());

  const int closed = ClosedPort();
  ProbeOutcome out = TcpProbe("127.0.0.1", closed, absl::Seconds(1));
  CHECK(out.result == ProbeResult::kFailure);
  CHECK(out.message ==
        absl::StrFormat("dial tcp 127.0.0.1:%d: connect: connection refused", closed));

  // Through NewProber, with the pod IP as the host and a named port.
  std::unique_ptr<Prober> prober = NewProber(nullptr);
  reef::v1::Probe probe;
  probe.mutable_tcp_socket()->set_port("db");
  ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  reef::v1::ContainerPort db;
  db.set_name("db");
  db.set_container_port(port);
  target.ports.push_back(db);
  CHECK(prober->Run(probe, target, absl::Seconds(1)).success());
}

TEST_CASE("tcpSocket: a connect that hangs times out") {
  // A listener that accepts nothing, its queue filled: the kernel drops further SYNs.
  int port = 0;
  UniqueFd listener = Listen(0, &port);
  std::vector<UniqueFd> fillers;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  for (int i = 0; i < 4; ++i) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    (void)::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(std::move(fd));
  }
  absl::SleepFor(absl::Milliseconds(50));
  absl::Time start = absl::Now();
  ProbeOutcome out = TcpProbe("127.0.0.1", port, absl::Milliseconds(300));
  INFO(out.message);
  CHECK(out.result == ProbeResult::kFailure);
  CHECK(out.message == absl::StrFormat("dial tcp 127.0.0.1:%d: i/o timeout", port));
  CHECK(absl::Now() - start < absl::Seconds(2));
}

}  // namespace
}  // namespace reef::agent::probes
