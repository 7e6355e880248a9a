/* LeadVault's GraphiQL page: every script it runs is served by LeadVault itself. */
"use strict";

const WELCOME = `# LeadVault GraphiQL (development only)
#
# Sign in first. In a terminal beside
# the demo:
#
#   python3 dev.py token sales_manager
#
# then put this in the Headers tab:
#
#   {"Authorization": "Bearer <token>"}
#
# and re-fetch the schema (the circling
# arrows, bottom left) for the docs and
# completion. Run a query with
# Ctrl-Enter or the play button.

query WhoAmI {
  me {
    account { displayName role }
  }
}
`;

const fetcher = GraphiQL.createFetcher({ url: new URL("/graphql", window.location.href).href });

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: WELCOME,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
  }),
);

/* GraphiQL's editors are text areas without a name; give each one, for screen readers. */
const EDITOR_NAMES = [
  [".graphiql-query-editor textarea", "Query"],
  [".graphiql-editor-tool .graphiql-editor:nth-of-type(1) textarea", "Variables (JSON)"],
  [".graphiql-editor-tool .graphiql-editor:nth-of-type(2) textarea", "Headers (JSON)"],
  [".graphiql-response textarea", "Response"],
];

function nameEditors() {
  for (const [selector, name] of EDITOR_NAMES) {
    for (const area of document.querySelectorAll(selector)) {
      if (!area.hasAttribute("aria-label")) {
        area.setAttribute("aria-label", name);
      }
    }
  }
}

new MutationObserver(nameEditors).observe(document.getElementById("graphiql"), {
  childList: true,
  subtree: true,
});
