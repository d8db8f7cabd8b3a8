// tcpSocket probes: success when a TCP connection opens within the timeout; the
// connection is closed at once, as the kubelet does.

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "agent/probes/handlers.h"
#include "common/unique_fd.h"

namespace reef::agent::probes {
namespace {

// Go words its errors as strerror in lower case ("connection refused").
std::string ErrnoText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = absl::ascii_tolower(static_cast<unsigned char>(text[0]));
  return text;
}

// Connects to one address before `deadline`: 0, ETIMEDOUT, or the connect error.
int ConnectBefore(const addrinfo& ai, absl::Time deadline) {
  UniqueFd fd(::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       ai.ai_protocol));
  if (!fd.valid()) return errno;
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return ETIMEDOUT;
    pollfd pfd = {fd.get(), POLLOUT, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n < 0 && errno != EINTR) return errno;
    if (n <= 0) continue;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
  }
}

}  // namespace

std::string JoinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return reef::StrCat("[", host, "]:", port);
  return reef::StrCat(host, ":", port);
}

ProbeOutcome TcpProbe(const std::string& host, int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string address = JoinHostPort(host, port);
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  // A name is looked up without a timeout of our own: the resolver's applies.
  int rc = ::getaddrinfo(host.c_str(), absl::StrCat(port).c_str(), &hints, &found);
  if (rc != 0) {
    return ProbeOutcome::Failure(reef::StrCat("dial tcp: lookup ", host, ": ", gai_strerror(rc)));
  }
  int err = EADDRNOTAVAIL;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    err = ConnectBefore(*ai, deadline);
    if (err == 0 || err == ETIMEDOUT) break;
  }
  ::freeaddrinfo(found);
  if (err == 0) return ProbeOutcome::Success();
  if (err == ETIMEDOUT) return ProbeOutcome::Failure(reef::StrCat("dial tcp ", address, ": i/o timeout"));
  return ProbeOutcome::Failure(reef::StrCat("dial tcp ", address, ": connect: ", ErrnoText(err)));
}

}  // namespace reef::agent::probes
