import { expect } from 'chai';
import { podTemplateSchemaFromOpenAPI } from '../../hack/openapi.ts';

const ref = (n: string) => ({ $ref: `#/components/schemas/${n}` });
const doc = {
  components: {
    schemas: {
      'io.k8s.api.core.v1.PodTemplateSpec': {
        type: 'object',
        description: 'x',
        properties: {
          metadata: { default: {}, allOf: [ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')] },
          spec: { default: {}, allOf: [ref('io.k8s.api.core.v1.PodSpec')] },
        },
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
        type: 'object',
        properties: { name: { type: 'string' }, labels: { type: 'object' } },
      },
      'io.k8s.api.core.v1.PodSpec': {
        type: 'object',
        required: ['containers'],
        properties: {
          containers: {
            type: 'array',
            items: ref('io.k8s.api.core.v1.Container'),
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            'x-kubernetes-patch-strategy': 'merge',
          },
        },
      },
      'io.k8s.api.core.v1.Container': {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string', default: '' },
          ports: {
            type: 'array',
            items: ref('io.k8s.api.core.v1.ContainerPort'),
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
          },
          resources: { type: 'object', additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') },
          port: ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'),
        },
      },
      'io.k8s.api.core.v1.ContainerPort': {
        type: 'object',
        required: ['containerPort'],
        properties: { containerPort: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } },
      },
      'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
        format: 'int-or-string',
        oneOf: [{ type: 'integer' }, { type: 'string' }],
      },
    },
  },
};

describe('podTemplateSchemaFromOpenAPI', () => {
  const s = podTemplateSchemaFromOpenAPI(doc);
  const container = s.properties.spec.properties.containers.items;

  it('inlines references and drops descriptions and patch hints', () => {
    expect(JSON.stringify(s)).not.to.match(/\$ref|description|patch-strategy|"default":\{\}/);
    expect(s.properties.spec.required).to.deep.equal(['containers']);
  });
  it('limits template metadata to labels and annotations', () => {
    expect(Object.keys(s.properties.metadata.properties)).to.deep.equal(['labels', 'annotations']);
  });
  it('writes Quantity and IntOrString as int-or-string', () => {
    expect(container.properties.resources.additionalProperties['x-kubernetes-int-or-string']).to.equal(true);
    expect(container.properties.resources.additionalProperties.pattern).to.be.a('string');
    expect(container.properties.port).to.deep.equal({
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    });
  });
  it('keeps the default of a list-map key that is not required, and no other default', () => {
    expect(container.properties.ports.items.properties.protocol.default).to.equal('TCP');
    expect(container.properties.name.default).to.equal(undefined);
  });
});
