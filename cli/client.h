#pragma once
// How reefctl finds and talks to the controller.
//
// Every call is mutual TLS with the credential of a client config file (admin.conf's
// format, common/client_config.h): --config FILE, then $REEFCONFIG, then
// ~/.reef/config. The file names the server; --server, then $REEF_SERVER, override
// the address (the certificate must still cover it, see reef-controller --tls-san).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "reef/v1/api.grpc.pb.h"

namespace reef::cli {

// Flags every command shares.
struct GlobalOptions {
  std::string config;  // --config
  std::string server;
  std::string namespace_;  // -n; empty: "default" (or the manifest's own)
  int request_timeout_seconds = 30;
};

struct ClientConfig {
  std::string server;
  std::string source;       // where `server` came from, for error messages
  std::string config_path;  // the config file the credential came from
  std::string ca_pem;       // the cluster CA
  std::string certificate_pem;
  std::string key_pem;
};

// Reads the config file and picks the address. A missing, unreadable or malformed
// file is one clear error naming it and where its path came from.
absl::StatusOr<ClientConfig> ResolveConfig(const GlobalOptions& options);

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const GlobalOptions& options);

  reef::v1::ApiService::Stub& api() { return *stub_; }
  // A context for one unary call, with the request timeout.
  std::unique_ptr<grpc::ClientContext> Context() const;
  // A context for a long-lived stream: no deadline, waits for the server to be up.
  std::unique_ptr<grpc::ClientContext> StreamContext() const;

  // Turns a failed call into one line for people, naming the server when it could
  // not be reached. `what` says what was tried: "apply", "get pods".
  absl::Status Explain(const grpc::Status& status, std::string_view what) const;

  // Blocks until the channel is connected, or fails within `timeout` with a clear
  // message (connection refused fails at once).
  absl::Status WaitConnected(std::chrono::milliseconds timeout) const;

  // One object, or the explained error.
  absl::StatusOr<reef::v1::Object> GetObject(std::string_view kind, const std::string& ns,
                                             const std::string& name) const;
  // Every object of a kind in `ns` ("" for all) matching the label selector.
  absl::StatusOr<reef::v1::ListResponse> ListObjects(std::string_view kind, const std::string& ns,
                                                     const std::string& selector) const;

  const std::string& server() const { return config_.server; }
  const ClientConfig& config() const { return config_; }

 private:
  ClientConfig config_;
  int timeout_seconds_ = 30;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<reef::v1::ApiService::Stub> stub_;
};

}  // namespace reef::cli
