use crate::{App, invalid_fields};
use edgechat_tests::json;

#[test]
fn the_config_set_through_the_api_is_what_the_widget_loads() {
    let app = App::start();
    let tenant = app.tenant();
    let defaults = tenant.api.get("/api/v1/widget/config").expect(200).json();
    assert_eq!(defaults["position"], "right");
    assert_eq!(defaults["updated_at"], json!(null));
    let wanted = json!({"colors": {"primary": "#AA3300", "text": "#ffffff"},
        "texts": {"title": "Talk to Acme", "welcome": "Hello!", "placeholder": "Ask away", "offline": "Back soon", "launcher": "Help"},
        "position": "left"});
    let stored = tenant
        .api
        .put("/api/v1/widget/config", &wanted)
        .expect(200)
        .json();
    assert_eq!(stored["colors"]["primary"], "#aa3300");
    assert_eq!(stored["texts"]["launcher"], "Help");
    let public = app
        .public()
        .get(&format!("/v1/widget/config?site={}", tenant.site_key));
    let public_json = public.expect(200).json();
    assert_eq!(public_json["position"], "left");
    assert_eq!(public_json["texts"]["title"], "Talk to Acme");
    assert!(public_json.get("updated_at").is_none());
    assert_eq!(public.header("access-control-allow-origin"), Some("*"));
    assert!(
        public
            .header("cache-control")
            .is_some_and(|c| c.contains("max-age"))
    );
}

#[test]
fn invalid_configs_are_refused_naming_the_field() {
    let app = App::start();
    let tenant = app.tenant();
    let cases = [
        (json!({"colors": {"primary": "red"}}), "colors.primary"),
        (json!({"colors": {"text": "#fff"}}), "colors.text"),
        (json!({"texts": {"title": "x".repeat(61)}}), "texts.title"),
        (json!({"texts": {"launcher": ""}}), "texts.launcher"),
        (json!({"texts": {"subtitle": "x"}}), "texts.subtitle"),
        (json!({"position": "top"}), "position"),
    ];
    for (body, field) in cases {
        assert_eq!(
            invalid_fields(&tenant.api.put("/api/v1/widget/config", &body)),
            [field],
            "{body}"
        );
    }
    app.public().get("/v1/widget/config").expect_problem(400);
    app.public()
        .get("/v1/widget/config?site=site_000000000000000000000000")
        .expect_problem(404);
}
