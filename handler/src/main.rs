//! The Lambda `bootstrap` for `provided.al2023`: configuration, clients, then the runtime loop.
//! All logic lives in the library.

use std::convert::Infallible;

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use ebhook_handler::config::Config;
use ebhook_handler::handler::Handler;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    ebhook_handler::logging::init();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        build = option_env!("EBHOOK_BUILD_ID").unwrap_or("-"),
        "ebhook handler starting"
    );
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(ebhook_handler::http_client())
        .load()
        .await;
    let handler = Handler::new(config, &sdk)
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let handler = &handler;
    let warm_up = handler.warm_up();
    let run = lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            Ok::<_, Infallible>(handler.handle(&event.payload).await)
        },
    ));
    // The secret is read while the runtime asks for the first event; the first request waits
    // for it through the store's lock if it is not there yet.
    let (_, result) = tokio::join!(warm_up, run);
    result
}
