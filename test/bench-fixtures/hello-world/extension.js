// The yo-code "Hello World" extension, in plain JavaScript: the baseline VS Code activation time is
// compared against (same activation event as EHG Telemetry: onStartupFinished).
const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('benchHelloWorld.hello', () => vscode.window.showInformationMessage('Hello World')),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
