/// The single-page app, embedded at build time from Sources/Console/Web (nothing is fetched at run time).
enum WebAssets {
    static let index: [UInt8] = PackageResources.index_html

    static func file(_ path: String) -> (type: String, body: [UInt8])? {
        switch path {
        case "/static/app.css": ("text/css; charset=utf-8", PackageResources.app_css)
        case "/static/app.js": ("text/javascript; charset=utf-8", PackageResources.app_js)
        case "/static/pages.js": ("text/javascript; charset=utf-8", PackageResources.pages_js)
        case "/static/timeline.js": ("text/javascript; charset=utf-8", PackageResources.timeline_js)
        case "/static/faults.js": ("text/javascript; charset=utf-8", PackageResources.faults_js)
        case "/favicon.ico": ("image/svg+xml", Array(favicon.utf8))
        default: nil
        }
    }

    static let favicon = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2b6cb0"/></svg>"##
}
