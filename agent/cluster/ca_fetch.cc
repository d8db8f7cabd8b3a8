#include "agent/cluster/ca_fetch.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "common/files.h"
#include "common/pki.h"
#include "common/unique_fd.h"

namespace reef::agent {
namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};

struct HostPort {
  std::string host;  // without brackets
  std::string port;
};

absl::StatusOr<HostPort> SplitHostPort(const std::string& server) {
  size_t colon = server.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == server.size()) {
    return absl::InvalidArgumentError(reef::StrCat("server \"", server, "\": expected HOST:PORT"));
  }
  HostPort hp{server.substr(0, colon), server.substr(colon + 1)};
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  return hp;
}

// A connected TCP socket, or Unavailable within `timeout`.
absl::StatusOr<UniqueFd> ConnectTcp(const std::string& server, const HostPort& hp, absl::Duration timeout) {
  addrinfo hints = {};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(reef::StrCat("resolve ", server, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
  absl::Status last = absl::UnavailableError(reef::StrCat("connect to ", server, ": no address"));
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) continue;
    int err = 0;
    if (connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p = {fd.get(), POLLOUT, 0};
        socklen_t len = sizeof err;
        int n = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
        if (n == 0) err = ETIMEDOUT;
        else if (n < 0 || getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      }
    }
    if (err != 0) {
      last = absl::UnavailableError(ErrnoStatus(reef::StrCat("connect to ", server), err).message());
      continue;
    }
    // Blocking from here, with the same bound on every read and write of the handshake.
    int flags = fcntl(fd.get(), F_GETFL);
    fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    timeval tv = {static_cast<time_t>(absl::ToInt64Seconds(timeout)), 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
  }
  return last;
}

// The peer's chain, leaf first, as the server sent it.
absl::StatusOr<std::vector<pki::Certificate>> HandshakeChain(const std::string& server, const HostPort& hp,
                                                             int fd) {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return pki::OpenSslError("TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Deliberately unverified: trust comes from the token's pin, checked by the caller.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return pki::OpenSslError("TLS connection");
  // gRPC servers insist on ALPN h2 once the handshake is done; offering it keeps
  // their logs free of a failed handshake for every join.
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_set_alpn_protos(ssl.get(), kAlpn, sizeof kAlpn);
  if (!pki::IsIpAddress(hp.host)) SSL_set_tlsext_host_name(ssl.get(), hp.host.c_str());
  if (SSL_connect(ssl.get()) != 1) {
    return pki::OpenSslError(reef::StrCat("TLS handshake with ", server), absl::StatusCode::kUnavailable);
  }
  std::vector<pki::Certificate> chain;
  STACK_OF(X509)* peer = SSL_get_peer_cert_chain(ssl.get());  // client side: leaf included
  for (int i = 0; peer != nullptr && i < sk_X509_num(peer); ++i) {
    X509* x = sk_X509_value(peer, i);
    X509_up_ref(x);
    chain.push_back(pki::Certificate::Adopt(pki::X509Ptr(x)));
  }
  SSL_shutdown(ssl.get());
  ERR_clear_error();
  if (chain.empty()) return absl::UnavailableError(reef::StrCat(server, " presented no certificate"));
  return chain;
}

}  // namespace

absl::StatusOr<std::string> FetchClusterCa(const std::string& server, std::string_view expected_sha256,
                                           absl::Duration timeout) {
  ASSIGN_OR_RETURN(HostPort hp, SplitHostPort(server));
  ASSIGN_OR_RETURN(UniqueFd fd, ConnectTcp(server, hp, timeout));
  ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, HandshakeChain(server, hp, fd.get()));
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain[i].Sha256() != expected_sha256) continue;
    std::vector<pki::Certificate> intermediates;
    for (size_t j = 1; j < i; ++j) intermediates.push_back(chain[j].Clone());
    absl::Status verified = pki::VerifyChain(chain[0], chain[i], intermediates);
    if (!verified.ok()) {
      return absl::FailedPreconditionError(reef::StrCat(
          "the controller at ", server, " presents the token's CA but a server certificate it did not sign: ",
          verified.message()));
    }
    return chain[i].ToPem();
  }
  return absl::FailedPreconditionError(reef::StrCat(
      "the controller at ", server, " presents CA sha256:", chain.back().Sha256(),
      " but the token expects sha256:", expected_sha256,
      "; refusing to send the token (is the token for this cluster?)"));
}

}  // namespace reef::agent
