export { connectTestClient, UpgradeRefusedError, type ChannelEvent, type ChannelReply, type TestChannelClient, type TestChannelClientOptions } from './lib/test-client.js'
