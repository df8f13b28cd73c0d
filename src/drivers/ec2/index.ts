/** The `ec2` driver module, loaded lazily by the driver table (the AWS SDK is imported only here). */
import type { ResourceDriver } from '../resource-handler.js';
import { createEc2Handler } from './handler.js';

export { createEc2Handler, Ec2ResourceHandler, Ec2ApiError, EC2_USER_DATA_LIMIT, NODE_ID_TAG, INFRA_ID_TAG } from './handler.js';
export type { Ec2HandlerOptions } from './handler.js';

const ec2Driver: ResourceDriver = {
  type: 'ec2',
  createHandler: (resource, context) => createEc2Handler(resource, context),
};

export default ec2Driver;
