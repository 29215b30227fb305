// Start Swagger UI on the /docs page; kept out of the page so that the site's Content
// Security Policy (no inline script) holds there too. The plugins and the names added
// below bring the viewer's own markup to WCAG 2.1 AA; static/css/docs.css does the same
// for its colours.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }

  // The summary of an operation is one button that opens and closes it, and Swagger UI
  // puts the operation's deep link inside it: a link within a button, which the
  // keyboard reaches as a second stop and assistive technology cannot name apart
  // (WCAG 4.1.2). Here the summary shows the path as text. Deep linking itself stays:
  // the address follows the operation opened, and the tags' headings keep their links.
  function pathWithoutLink(system) {
    return {
      wrapComponents: {
        OperationSummaryPath: function (Original) {
          return function (props) {
            var operation = props.operationProps.set("isDeepLinkingEnabled", false);
            return system.React.createElement(
              Original, Object.assign({}, props, {operationProps: operation}));
          };
        }
      }
    };
  }

  // The examples' colours (Swagger UI's "agate" theme) put numbers and comments below
  // 4.5:1 on its dark background; the same theme with those two raised.
  var RAISED = {
    "hljs-number": "#ff8f8f", "hljs-symbol": "#ff8f8f", "hljs-bullet": "#ff8f8f", // 5.8:1
    "hljs-comment": "#aaaaaa", "hljs-code": "#aaaaaa" // 5.4:1
  };

  function readable(highlighting) {
    var theme = {};
    var base = highlighting.styles.agate;
    Object.keys(base).forEach(function (token) {
      theme[token] = RAISED[token]
        ? Object.assign({}, base[token], {color: RAISED[token]}) : base[token];
    });
    return {styles: Object.assign({}, highlighting.styles, {agate: theme}), defaultStyle: theme};
  }

  function readableExamples(system) {
    return {
      wrapComponents: {
        SyntaxHighlighter: function (Original) {
          var raised = null;
          return function (props) {
            raised = raised || readable(props.syntaxHighlighting || system.syntaxHighlighting);
            return system.React.createElement(
              Original, Object.assign({}, props, {syntaxHighlighting: raised}));
          };
        }
      }
    };
  }

  // Controls Swagger UI draws with no name: the copy buttons (an icon alone), the
  // request body's editor, and the fields of a parameter's row, which take the
  // parameter's name. The viewer does not manage these attributes, so they stay once
  // set; new ones are named as they are drawn.
  var UNNAMED = "tr[data-param-name] input, tr[data-param-name] select, " +
    "tr[data-param-name] textarea, textarea.body-param__text, .copy-to-clipboard > button";

  function nameControls() {
    root.querySelectorAll(UNNAMED).forEach(function (control) {
      if (control.hasAttribute("aria-label") || (control.labels && control.labels.length)) {
        return;
      }
      var row = control.closest("tr[data-param-name]");
      control.setAttribute("aria-label", row ? row.getAttribute("data-param-name")
        : control.tagName === "TEXTAREA" ? "Request body" : "Copy to clipboard");
    });
  }

  new MutationObserver(nameControls).observe(root, {childList: true, subtree: true});

  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    plugins: [pathWithoutLink, readableExamples],
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null
  });
})();
