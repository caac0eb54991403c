package dev.entente.node;

import java.util.List;
import java.util.TreeSet;

/**
 * Every route of the admin address, as its OpenAPI description ({@code openapi.json}) lists them:
 * the API answers only these (anything else is 404, or 405 with the methods the path has), and
 * {@code OpenApiTest} holds the description to the same list, so a route cannot be added without
 * being described.
 */
final class Routes {
    private Routes() {
    }

    /** A method and a path template, whose {@code {name}} segments match any one segment. */
    record Route(String method, String template) {
        boolean matches(List<String> segments) {
            List<String> t = segments(template);
            if (t.size() != segments.size()) {
                return false;
            }
            for (int i = 0; i < t.size(); i++) {
                if (!t.get(i).startsWith("{") && !t.get(i).equals(segments.get(i))) {
                    return false;
                }
            }
            return true;
        }
    }

    static final List<Route> ALL = List.of(
            new Route("GET", "/"),
            new Route("GET", "/_status/check"),
            new Route("GET", "/metrics"),
            new Route("GET", "/v1/openapi.json"),
            new Route("GET", "/v1/status"),
            new Route("GET", "/v1/digest"),
            new Route("GET", "/v1/namespaces"),
            new Route("PUT", "/v1/namespaces/{ns}"),
            new Route("GET", "/v1/namespaces/{ns}/entries"),
            new Route("POST", "/v1/namespaces/{ns}/entries"),
            new Route("GET", "/v1/namespaces/{ns}/entries/{id}"),
            new Route("PATCH", "/v1/namespaces/{ns}/entries/{id}"),
            new Route("DELETE", "/v1/namespaces/{ns}/entries/{id}"),
            new Route("POST", "/v1/namespaces/{ns}/entries/{id}/discard"),
            new Route("GET", "/v1/changes"),
            new Route("GET", "/v1/changes/stream"),
            new Route("POST", "/v1/replication/sync"),
            new Route("POST", "/v1/replication/refresh"),
            new Route("POST", "/v1/backup"),
            new Route("GET", "/v1/peers"),
            new Route("POST", "/v1/peers/consumers"),
            new Route("DELETE", "/v1/peers/consumers/{name}"),
            new Route("POST", "/v1/peers/agreements"),
            new Route("DELETE", "/v1/peers/agreements/{name}"));

    /**
     * Null when the route exists; otherwise the API's error for it.
     */
    static AdminApi.ApiError refusal(String method, String path) {
        List<String> s = segments(path);
        TreeSet<String> methods = new TreeSet<>();
        for (Route r : ALL) {
            if (r.matches(s)) {
                if (r.method().equals(method)) {
                    return null;
                }
                methods.add(r.method());
            }
        }
        if (methods.isEmpty()) {
            return new AdminApi.ApiError(404, "not_found", "no such endpoint: " + method + " " + path + " (GET /v1/openapi.json lists them)");
        }
        return new AdminApi.ApiError(405, "method_not_allowed", method + " is not allowed here; use " + String.join(" or ", methods));
    }

    static List<String> segments(String path) {
        return java.util.Arrays.stream(path.split("/")).filter(x -> !x.isEmpty()).toList();
    }
}
