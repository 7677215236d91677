// genogate mllp send FILE --to HOST:PORT [--tls --ca F --cert F --key F]
// [--timeout S] [--raw]: sends each HL7 v2 message of FILE over MLLP on one
// connection, one at a time, and prints each ACK (MSA-1, MSA-2 and one line
// per ERR segment, or the raw ACK with --raw). For lab integrators testing
// their link to genogate (or to any MLLP receiver).
//
// Exit 0 when every ACK is AA (or CA), 1 when any is AE / AR (CE / CR) or
// unreadable, 2 when the file cannot be read or the connection fails
// (cannot connect, TLS failure, timeout, closed before an ACK).
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "gateway/mllp/mllp_client.h"
#include "gateway/mllp/mllp_listener.h"
#include "mappers/hl7v2/er7.h"

namespace genogate::cli {
namespace {

namespace v2 = mappers::hl7v2;

struct MllpSendOptions {
  std::string input;
  std::string to;
  bool tls = false;
  std::string ca, cert, key, server_name;
  double timeout_seconds = 30;
  bool raw = false;
};

// One line per ACK, then its ERR segments indented.
std::string Summarise(const std::string& label, const std::string& ack,
                      bool* accepted) {
  *accepted = false;
  Result<v2::Message> m = v2::ParseEr7(ack);
  if (!m.ok() || m->Find("MSA") == nullptr) {
    return label + ": unreadable ACK (" + std::to_string(ack.size()) +
           " bytes; --raw shows it)\n";
  }
  std::string code = m->Get("MSA-1");
  *accepted = code == "AA" || code == "CA";
  std::string out = label + ": " + code;
  std::string text = m->Get("MSA-3");
  if (!text.empty()) out += " " + text;
  out += "\n";
  for (size_t i = 1; const v2::Segment* err = m->Find("ERR", i); ++i) {
    std::string sev = err->Field(4).Value();
    std::string where = std::string(err->Field(2).raw());
    std::string cond = err->Field(3).Component(1).Value();
    std::string cond_text = err->Field(3).Component(2).Value();
    std::string what = err->Field(8).Value();
    if (err->Field(3).empty() && !err->Field(1).empty()) {
      // v2.3 / v2.4: ERR-1 = segment^sequence^field^code&text&table.
      v2::Element eld = err->Field(1);
      where = eld.Component(1).Value() + "^" + eld.Component(2).Value() + "^" +
              eld.Component(3).Value();
      cond = eld.Component(4).Sub(1).Value();
      cond_text = eld.Component(4).Sub(2).Value();
    }
    out += "  " + (sev.empty() ? std::string("E") : sev);
    if (!where.empty()) out += " " + where;
    if (!cond.empty()) out += " " + cond;
    if (!cond_text.empty()) out += " " + cond_text;
    if (!what.empty()) out += ": " + what;
    out += "\n";
  }
  return out;
}

std::string Printable(std::string ack) {
  for (char& c : ack) {
    if (c == '\r') c = '\n';
  }
  if (!ack.empty() && ack.back() != '\n') ack += '\n';
  return ack;
}

int RunMllpSend(const MllpSendOptions& o) {
  Result<std::pair<std::string, uint16_t>> to = gateway::ParseHostPort(o.to);
  if (!to.ok()) return Fail("mllp send", to.error());
  Result<std::string> text = ReadInput(o.input, v2::kMaxMessageBytes * 16);
  if (!text.ok()) return Fail("mllp send", text.error());
  std::vector<std::string> messages = gateway::SplitMessages(*text);
  if (messages.empty()) {
    return Fail("mllp send", Error(ErrorCode::kInvalidInput,
                                   o.input + " holds no HL7 v2 message"));
  }
  gateway::MllpClientOptions c;
  c.host = to->first;
  c.port = to->second;
  c.tls = o.tls || !o.ca.empty() || !o.cert.empty();
  c.ca_file = o.ca;
  c.cert_file = o.cert;
  c.key_file = o.key;
  c.server_name = o.server_name;
  auto ms = std::chrono::milliseconds(
      static_cast<int64_t>(o.timeout_seconds * 1000 + 0.5));
  c.connect_timeout = ms;
  c.timeout = ms;
  Result<std::unique_ptr<gateway::MllpClient>> client =
      gateway::MllpClient::Connect(c);
  if (!client.ok()) return Fail("mllp send", client.error());
  bool all_accepted = true;
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string label = "message " + std::to_string(i + 1);
    std::string id = v2::SalvageControlId(messages[i]);
    if (!id.empty()) label += " (" + id + ")";
    Result<std::string> ack = (*client)->Send(messages[i]);
    if (!ack.ok()) {
      std::cout.flush();
      return Fail("mllp send", ack.error().WithContext(label));
    }
    bool accepted = false;
    std::string summary = Summarise(label, *ack, &accepted);
    std::cout << (o.raw ? Printable(*ack) : summary);
    if (o.raw && messages.size() > 1) std::cout << "\n";
    all_accepted = all_accepted && accepted;
  }
  return all_accepted ? 0 : 1;
}

}  // namespace

Command RegisterMllp(CLI::App& app) {
  auto o = std::make_shared<MllpSendOptions>();
  CLI::App* cmd =
      app.add_subcommand("mllp", "HL7 v2 over MLLP (a lab's side of the link)");
  cmd->require_subcommand(1);
  CLI::App* send = cmd->add_subcommand(
      "send",
      "Send each HL7 v2 message of FILE (separated by blank lines or MSH "
      "starts) over one MLLP connection and print each ACK (exit 0 if all "
      "are AA, 1 if any is AE or AR, 2 if the link fails)");
  send->add_option("FILE", o->input, "ER7 text ('-' for standard input)")
      ->required();
  send->add_option("--to", o->to, "Receiver address")
      ->required()
      ->type_name("HOST:PORT");
  send->add_flag("--tls", o->tls, "Use TLS (1.2 or later)");
  send->add_option("--ca", o->ca,
                   "CA certificates (PEM) to verify the receiver with "
                   "(default: the system's); implies --tls")
      ->type_name("FILE");
  send->add_option("--cert", o->cert,
                   "Client certificate chain (PEM) for mutual TLS; implies "
                   "--tls")
      ->type_name("FILE");
  send->add_option("--key", o->key, "Client private key (PEM)")
      ->type_name("FILE");
  send->add_option("--server-name", o->server_name,
                   "Name the receiver's certificate must carry (default: "
                   "HOST)");
  send->add_option("--timeout", o->timeout_seconds,
                   "Seconds to connect, and to wait for each ACK")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  send->add_flag("--raw", o->raw, "Print each ACK as received (CR as newline)");
  return {cmd, [o] { return RunMllpSend(*o); }};
}

}  // namespace genogate::cli
