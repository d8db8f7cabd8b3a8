#include "cli/client.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "common/files.h"

namespace reef::cli {
namespace {

constexpr char kDefaultServer[] = "127.0.0.1:7443";
constexpr auto kConnectTimeout = std::chrono::seconds(5);

std::string ConfigPath() {
  if (const char* p = std::getenv("REEFCONFIG"); p && *p) return p;
  if (const char* home = std::getenv("HOME"); home && *home) return reef::StrCat(home, "/.reef/config");
  return "";
}

}  // namespace

absl::StatusOr<ClientConfig> ResolveConfig(const GlobalOptions& options) {
  if (!options.server.empty()) return ClientConfig{options.server, "--server"};
  if (const char* env = std::getenv("REEF_SERVER"); env && *env) return ClientConfig{env, "REEF_SERVER"};
  std::string path = ConfigPath();
  if (!path.empty()) {
    auto text = ReadFileLimited(path, 1 << 20);
    if (text.ok()) {
      try {
        YAML::Node config = YAML::Load(*text);
        if (config.IsMap() && config["server"] && config["server"].IsScalar()) {
          return ClientConfig{config["server"].Scalar(), path};
        }
        return absl::InvalidArgumentError(reef::StrCat(path, ": no \"server: HOST:PORT\" entry"));
      } catch (const YAML::Exception& e) {
        return absl::InvalidArgumentError(reef::StrCat(path, ":", e.mark.line + 1, ": invalid YAML: ", e.msg));
      }
    }
    if (!absl::IsNotFound(text.status())) return text.status();
  }
  return ClientConfig{kDefaultServer, "the default"};
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const GlobalOptions& options) {
  ASSIGN_OR_RETURN(ClientConfig config, ResolveConfig(options));
  auto client = std::make_unique<Client>();
  client->config_ = config;
  client->timeout_seconds_ = options.request_timeout_seconds;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);  // large lists
  args.SetMaxSendMessageSize(8 * 1024 * 1024);
  // Reconnect quickly when a watch loses its controller for a moment.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // A watch on a path that silently drops packets notices within ~40 s.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10 * 1000);
  client->channel_ = grpc::CreateCustomChannel(config.server, grpc::InsecureChannelCredentials(), args);
  client->stub_ = reef::v1::ApiService::NewStub(client->channel_);
  RETURN_IF_ERROR(client->WaitConnected(kConnectTimeout));
  return client;
}

absl::Status Client::WaitConnected(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::system_clock::now() + timeout;
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return absl::UnavailableError(reef::StrCat(
          "cannot reach the Reef controller at ", config_.server, " (from ", config_.source,
          "): connection refused or unreachable; is reef-controller running?"));
    }
    if (!channel_->WaitForStateChange(state, deadline)) {
      return absl::DeadlineExceededError(reef::StrCat(
          "cannot reach the Reef controller at ", config_.server, " (from ", config_.source,
          "): no answer within ", std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
          "s"));
    }
    state = channel_->GetState(true);
  }
  return absl::OkStatus();
}

std::unique_ptr<grpc::ClientContext> Client::Context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds_));
  return ctx;
}

std::unique_ptr<grpc::ClientContext> Client::StreamContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  // A stream resumed after the controller went away waits for it to come back rather
  // than failing at once.
  ctx->set_wait_for_ready(true);
  return ctx;
}

absl::Status Client::Explain(const grpc::Status& status, std::string_view what) const {
  if (status.ok()) return absl::OkStatus();
  auto code = static_cast<absl::StatusCode>(status.error_code());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::Status(code, reef::StrCat(what, ": lost the Reef controller at ", config_.server,
                                             ": ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::Status(code, reef::StrCat(what, ": the controller at ", config_.server,
                                             " did not answer within ", timeout_seconds_, "s"));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::Status(code, reef::StrCat(what, ": request too large: ", status.error_message()));
    default:
      return absl::Status(code, status.error_message());
  }
}

absl::StatusOr<reef::v1::Object> Client::GetObject(std::string_view kind, const std::string& ns,
                                                   const std::string& name) const {
  reef::v1::GetRequest request;
  request.set_kind(std::string(kind));
  request.set_namespace_(ns);
  request.set_name(name);
  reef::v1::Object object;
  auto ctx = Context();
  grpc::Status status = stub_->Get(ctx.get(), request, &object);
  if (!status.ok()) return Explain(status, "get");
  return object;
}

absl::StatusOr<reef::v1::ListResponse> Client::ListObjects(std::string_view kind,
                                                           const std::string& ns,
                                                           const std::string& selector) const {
  reef::v1::ListRequest request;
  request.set_kind(std::string(kind));
  request.set_namespace_(ns);
  request.set_label_selector(selector);
  reef::v1::ListResponse response;
  auto ctx = Context();
  grpc::Status status = stub_->List(ctx.get(), request, &response);
  if (!status.ok()) return Explain(status, "list");
  return response;
}

}  // namespace reef::cli
