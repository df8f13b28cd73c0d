import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadYamlFile } from '../../../src/descriptors/load.js';
import { checkInfraDescription } from '../../../src/descriptors/schema/infra-description.js';
import { checkNodeDefinitionFile } from '../../../src/descriptors/schema/node-definitions.js';
import { exampleFiles } from './helpers.js';

describe('the shipped Occopus examples pass the schema checks', () => {
  const examples = exampleFiles();

  it('finds all six examples', () => {
    assert.deepEqual(
      examples.map((e) => e.name).sort(),
      ['docker-helloworld', 'docker-ping', 'ec2-helloworld', 'ec2-ping', 'nova-helloworld', 'nova-ping'],
    );
  });

  for (const example of examples) {
    it(`${example.name}: infrastructure description`, () => {
      const doc = loadYamlFile(example.infra);
      const { value, warnings } = checkInfraDescription(doc);
      assert.equal(value, doc.value);
      assert.ok(value.nodes.length > 0);
      assert.deepEqual(warnings, []);
    });

    it(`${example.name}: node definitions`, () => {
      const doc = loadYamlFile(example.nodes);
      const { value, warnings } = checkNodeDefinitionFile(doc);
      const infra = checkInfraDescription(loadYamlFile(example.infra)).value;
      // Every node type the description uses is defined, under its bare name.
      for (const node of infra.nodes) assert.ok(value[node.type]?.length, `no definition of '${node.type}'`);
      assert.deepEqual(warnings, []);
    });
  }
});
