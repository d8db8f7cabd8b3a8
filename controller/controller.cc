#include "controller/controller.h"

#include "common/files.h"
#include "controller/store/sqlite_store.h"

namespace reef::controller {
namespace {

absl::StatusOr<std::pair<std::string, std::string>> SplitHostPort(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return absl::InvalidArgumentError(
        reef::StrCat("--listen \"", listen, "\": expected HOST:PORT, e.g. 0.0.0.0:7443"));
  }
  return std::make_pair(listen.substr(0, colon), listen.substr(colon + 1));
}

// The namespaces every cluster has.
absl::Status Bootstrap(store::Store* store) {
  return store->Update([](store::Txn& txn) -> absl::Status {
    for (const char* name : {"default", "reef-system"}) {
      if (txn.Get(store::Key{"Namespace", "", name}).ok()) continue;
      v1::Object ns;
      ns.mutable_namespace_()->mutable_metadata()->set_name(name);
      ns.mutable_namespace_()->mutable_status()->set_phase("Active");
      RETURN_IF_ERROR(txn.Create(std::move(ns)).status());
    }
    return absl::OkStatus();
  }).status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Controller>> Controller::Start(const ControllerOptions& options) {
  ASSIGN_OR_RETURN(auto host_port, SplitHostPort(options.listen));
  RETURN_IF_ERROR(MakeDirs(options.data_dir, 0700));
  std::unique_ptr<Controller> c(new Controller());
  ASSIGN_OR_RETURN(c->store_, store::OpenSqliteStore(options.data_dir + "/reef.db"));
  RETURN_IF_ERROR(Annotate(Bootstrap(c->store_.get()), "bootstrap the store"));
  c->api_ = std::make_unique<ApiServiceImpl>(c->store_.get());

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, options.credentials, &port);
  builder.RegisterService(c->api_.get());
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  // Find dead clients (a watch from a laptop that slept) without waiting for TCP.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  c->server_ = builder.BuildAndStart();
  if (c->server_ == nullptr || port == 0) {
    return absl::UnavailableError(reef::StrCat("cannot listen on ", options.listen,
                                               " (address in use or not local?)"));
  }
  c->address_ = reef::StrCat(host_port.first, ":", port);
  return c;
}

void Controller::Shutdown() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

Controller::~Controller() { Shutdown(); }

}  // namespace reef::controller
