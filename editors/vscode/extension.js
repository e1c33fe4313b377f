// Starts `jxdsl lsp` for .jx files; everything the editor shows (errors, hover, definition,
// completion) comes from the server, so this file only wires the client to it.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("jxdsl.server");
  const server = {
    command: config.get("command", "jxdsl"),
    args: config.get("args", ["lsp", "--stdio"]),
    transport: TransportKind.stdio,
  };
  client = new LanguageClient(
    "jxdsl",
    "jxdsl 规则集",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "jxdsl" }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
