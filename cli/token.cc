// reefctl token create [--ttl D] [--description TEXT] | list | revoke ID...
//
// Join tokens for new nodes, as `kubeadm token` does it: the secret is made here, on
// the client, and the controller only ever stores its id and the sha256 of its key
// (common/join_token.h). The token pins the cluster CA from the client's config,
// which the TLS handshake has just shown to be the controller's.

#include "cli/commands.h"
#include "cli/printers.h"
#include "common/clock.h"
#include "common/join_token.h"
#include "common/pki.h"

namespace reef::cli {
namespace {

struct CreateOptions {
  std::string ttl = "24h";
  std::string description;
};

int RunCreate(const CreateOptions& opts, const GlobalOptions& globals) {
  absl::Duration ttl;
  if (!absl::ParseDuration(opts.ttl, &ttl) || ttl < absl::ZeroDuration()) {
    return PrintError(absl::InvalidArgumentError(reef::StrCat(
        "--ttl \"", opts.ttl, "\": expected a duration such as 24h, 30m or 0 (never expires)")));
  }
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  auto ca = pki::Certificate::FromPem((*client)->config().ca_pem);
  if (!ca.ok()) return PrintError(ca.status());

  JoinToken token = JoinToken::Generate(ca->Sha256());
  std::optional<absl::Time> expires;
  if (ttl > absl::ZeroDuration()) expires = absl::Now() + ttl;
  v1::ApplyRequest request;
  *request.add_objects() = JoinTokenRecord::For(token, expires, opts.description).ToSecret();
  v1::ApplyResponse response;
  auto ctx = (*client)->Context();
  grpc::Status status = (*client)->api().Apply(ctx.get(), request, &response);
  if (!status.ok()) return PrintError((*client)->Explain(status, "token create"));
  std::cout << token.ToString() << "\n";
  return 0;
}

int RunList(const GlobalOptions& globals) {
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  auto list = (*client)->ListObjects("Secret", std::string(kJoinTokenNamespace), "");
  if (!list.ok()) return PrintError(list.status());
  absl::Time now = absl::Now();
  Table table;
  table.Add({"ID", "TTL", "EXPIRES", "DESCRIPTION"});
  int tokens = 0;
  for (const v1::Object& object : list->items()) {
    if (object.secret().type() != kJoinTokenSecretType) continue;
    auto record = JoinTokenRecord::FromSecret(object);
    if (!record.ok()) {
      std::cerr << "warning: Secret " << kJoinTokenNamespace << "/" << object.secret().metadata().name()
                << ": " << record.status().message() << "\n";
      continue;
    }
    std::string ttl = "<forever>", expires = "<never>";
    if (record->expires) {
      ttl = *record->expires > now ? HumanDuration(*record->expires - now) : "<expired>";
      expires = FormatTimestamp(*record->expires);
    }
    table.Add({record->id, ttl, expires, record->description.empty() ? "<none>" : record->description});
    ++tokens;
  }
  if (tokens == 0) {
    std::cerr << "No join tokens found.\n";
    return 0;
  }
  std::cout << table.Render();
  return 0;
}

int RunRevoke(const std::vector<std::string>& ids, const GlobalOptions& globals) {
  auto client = Client::Connect(globals);
  if (!client.ok()) return PrintError(client.status());
  int exit_code = 0;
  for (const std::string& arg : ids) {
    auto id = JoinTokenIdFrom(arg);
    if (!id.ok()) {
      exit_code = PrintError(id.status());
      continue;
    }
    v1::DeleteRequest request;
    request.set_kind("Secret");
    request.set_namespace_(std::string(kJoinTokenNamespace));
    request.set_name(JoinTokenSecretName(*id));
    v1::DeleteResponse response;
    auto ctx = (*client)->Context();
    grpc::Status status = (*client)->api().Delete(ctx.get(), request, &response);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      exit_code = PrintError(absl::NotFoundError(reef::StrCat("join token \"", *id, "\" not found")));
      continue;
    }
    if (!status.ok()) {
      exit_code = PrintError((*client)->Explain(status, "token revoke"));
      continue;
    }
    std::cout << "join token \"" << *id << "\" revoked\n";
  }
  return exit_code;
}

}  // namespace

void SetupToken(CLI::App& root, CommandContext& ctx) {
  CLI::App* cmd = root.add_subcommand("token", "Manage the join tokens nodes use to join the cluster");
  cmd->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* c = cmd->add_subcommand("create", "Create a join token and print it");
  c->add_option("--ttl", create->ttl, "how long the token stays valid (0: until revoked)")
      ->capture_default_str();
  c->add_option("--description", create->description, "a note shown by `token list`");
  c->callback([create, &ctx] { ctx.exit_code = RunCreate(*create, ctx.globals); });

  CLI::App* l = cmd->add_subcommand("list", "List join tokens (ID, TTL, EXPIRES, DESCRIPTION)");
  l->callback([&ctx] { ctx.exit_code = RunList(ctx.globals); });

  auto ids = std::make_shared<std::vector<std::string>>();
  CLI::App* r = cmd->add_subcommand("revoke", "Revoke join tokens: nodes can no longer join with them");
  r->add_option("id", *ids, "token IDs (or whole tokens)")->required();
  r->callback([ids, &ctx] { ctx.exit_code = RunRevoke(*ids, ctx.globals); });
}

}  // namespace reef::cli
