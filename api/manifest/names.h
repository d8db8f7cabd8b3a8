#pragma once
// Kubernetes name and key validation (k8s.io/apimachinery/pkg/util/validation),
// hand-written rather than std::regex. Each returns OK or InvalidArgument whose
// message starts with the quoted value and states the rule it breaks, phrased like
// Kubernetes' own messages; several broken rules are joined with "; ".

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace reef::manifest {

inline constexpr size_t kDns1123SubdomainMaxLength = 253;
inline constexpr size_t kDns1123LabelMaxLength = 63;
inline constexpr size_t kQualifiedNameMaxLength = 63;
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kConfigMapKeyMaxLength = 253;

// Object names such as "web.example-1": at most 253 characters of [a-z0-9-.], every
// dot-separated part starting and ending with [a-z0-9].
absl::Status ValidateDns1123Subdomain(std::string_view value);

// Names such as "web-1" (namespaces, ports, containers): at most 63 characters of
// [a-z0-9-], starting and ending with [a-z0-9].
absl::Status ValidateDns1123Label(std::string_view value);

// Label and annotation keys: an optional DNS-1123 subdomain prefix and '/', then a
// name of at most 63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric
// ("app", "reef.dev/tier").
absl::Status ValidateLabelKey(std::string_view value);

// Label values: empty, or at most 63 characters of [A-Za-z0-9-_.] starting and ending
// alphanumeric.
absl::Status ValidateLabelValue(std::string_view value);

// ConfigMap / Secret data keys (they become file names): 1..253 characters of
// [-._a-zA-Z0-9], not "." or "..", not starting with "..".
absl::Status ValidateConfigMapKey(std::string_view value);

// Container environment variable names: [-._a-zA-Z][-._a-zA-Z0-9]*, and like
// Kubernetes, not "." or "..", not starting with "..".
absl::Status ValidateEnvVarName(std::string_view value);

// TCP/UDP port numbers: 1..65535.
absl::Status ValidatePortNumber(int64_t port);

}  // namespace reef::manifest
