// Swagger UI for jupyter-container-manager: "Try it out" works with the browser's Jupyter
// session (the _xsrf cookie is sent back as X-XSRFToken) or with a token entered through
// "Authorize" (Authorization: token ...). Served from the Python package: no CDN.
(function () {
  var root = document.getElementById("swagger-ui");
  function cookie(name) {
    var match = document.cookie.match("(^|;)\\s*" + name + "\\s*=\\s*([^;]+)");
    return match ? decodeURIComponent(match.pop()) : null;
  }
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    requestInterceptor: function (request) {
      var xsrf = cookie("_xsrf");
      if (xsrf) {
        request.headers["X-XSRFToken"] = xsrf;
      }
      return request;
    },
  });
})();
