//! stub
use crate::*;
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct OperSettings {}
pub struct Oper;
impl Oper {
    pub fn new(_: OperSettings, _: topup_core::Sensitive<String>) -> Result<Oper, ProviderError> {
        Err(ProviderError::Unsupported("x"))
    }
}
#[async_trait::async_trait]
impl Provider for Oper {
    fn id(&self) -> topup_core::ProviderId {
        todo!()
    }
    async fn submit(&self, _: &SubmitRequest) -> Outcome {
        todo!()
    }
    async fn query(&self, _: &QueryRequest) -> Outcome {
        todo!()
    }
    async fn balance(&self) -> (Result<Balance, ProviderError>, Vec<Exchange>) {
        todo!()
    }
    fn parse_callback(&self, _: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
        todo!()
    }
}
