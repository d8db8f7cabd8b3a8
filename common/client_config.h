#pragma once
// The client config file (admin.conf, ~/.reef/config): where the controller is and
// the credential to reach it, shaped like a kubeconfig's flattened fields:
//
//   server: 127.0.0.1:7443
//   certificate-authority-data: <base64 of the cluster CA's PEM>
//   client-certificate-data: <base64 of the client certificate's PEM>
//   client-key-data: <base64 of the client key's PEM>
//
// reef-controller writes it for the admin at start; reefctl reads it.

#include <string>
#include <string_view>

#include "common/status.h"

namespace reef {

struct ClientConfigFile {
  std::string server;  // HOST:PORT
  std::string ca_pem;
  std::string certificate_pem;
  std::string key_pem;

  std::string Format() const;
  // Parses and checks the text of `source` (a path, for messages): every field
  // present, base64 and PEM that OpenSSL reads, the key matching the certificate.
  // InvalidArgument "SOURCE: <what is wrong>" otherwise.
  static absl::StatusOr<ClientConfigFile> Parse(std::string_view text, std::string_view source);
  // Reads and parses a file (NotFound when it is missing, naming it).
  static absl::StatusOr<ClientConfigFile> Load(const std::string& path);
};

}  // namespace reef
