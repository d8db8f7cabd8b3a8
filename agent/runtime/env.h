#pragma once
// Environment variables as a container gets them: an ordered list where setting a
// name again replaces its value in place (as containerd merges image and container
// env), and Kubernetes' $(VAR) references.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reef::agent::runtime {

class EnvList {
 public:
  void Set(std::string_view name, std::string_view value);
  // "NAME=VALUE"; a bare "NAME" sets an empty value.
  void SetEntry(std::string_view entry);
  std::optional<std::string> Get(std::string_view name) const;
  // "NAME=VALUE" strings, in the order names were first set.
  std::vector<std::string> Entries() const;

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
};

// Kubernetes' expansion of command, args and env values: $(NAME) becomes NAME's value
// in `env` when it is set there and stays as written otherwise; $$ becomes $ (so $$(X)
// is the literal $(X)).
std::string ExpandVars(std::string_view text, const EnvList& env);

}  // namespace reef::agent::runtime
