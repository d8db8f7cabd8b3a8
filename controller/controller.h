#pragma once
// The controller process: the store under its data dir, the gRPC server and its
// services. main.cc only parses flags and waits for a signal.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "controller/server/api_service.h"
#include "controller/store/store.h"

namespace reef::controller {

struct ControllerOptions {
  std::string data_dir = "/var/lib/reef";
  std::string listen = "0.0.0.0:7443";  // HOST:PORT; port 0 picks a free one
  // Transport security for the listener. Insecure until the PKI lands; the cluster
  // CA and mutual TLS replace this without changing the rest.
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
};

class Controller {
 public:
  static absl::StatusOr<std::unique_ptr<Controller>> Start(const ControllerOptions& options);
  ~Controller();

  // "HOST:PORT" actually bound (with the real port when 0 was asked for).
  const std::string& address() const { return address_; }
  store::Store* store() { return store_.get(); }
  // Stops accepting calls, ends open watches, and returns once in-flight calls are done.
  void Shutdown();

 private:
  Controller() = default;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ApiServiceImpl> api_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

// Upper bound of one request on the wire: a manifest at its size limit plus framing.
inline constexpr int kMaxRequestBytes = 4 * 1024 * 1024;

}  // namespace reef::controller
