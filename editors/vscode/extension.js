// Starts `verify lsp` (standard input and output) for .spec files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("verify").get("command", ["verify", "lsp"]);
  client = new LanguageClient(
    "verify",
    "verify",
    { command, args },
    { documentSelector: [{ scheme: "file", language: "verify-spec" }] }
  );
  client.start();
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
