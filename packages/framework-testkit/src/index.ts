export { createScenarioApp, identityProvider, storeWithOutage, type ScenarioApp, type ScenarioAppOptions, type ScenarioSession } from './scenario-app.js'
export { ScenarioClient, type ScenarioResponse, type ScenarioRequest } from './scenario-client.js'
export { describeHostScenario, type RunningHost } from './host-scenario.js'
