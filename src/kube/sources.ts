// List/watch sources for the informers: the resources the controllers cache.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { ListPage, ListWatchSource, WatchEventType, WatchHandle } from '../runtime/informer.ts';
import type { KubeClient, CustomResourceRef } from './client.ts';

// Typed list calls return class instances with Date fields; watch events are plain JSON.
// One shape in the cache: plain JSON everywhere.
const plain = <T>(o: unknown): T => JSON.parse(JSON.stringify(o)) as T;

function page<T>(list: any): ListPage<T> {
  return {
    items: (list.items ?? []).map((i: unknown) => plain<T>(i)),
    resourceVersion: list.metadata?.resourceVersion ?? '',
    continue: list.metadata?._continue ?? list.metadata?.continue,
  };
}

interface SourceSpec {
  resource: string;
  /** The collection's URL path, all namespaces or one. */
  path: string;
  list: (opts: { limit: number; _continue?: string; labelSelector?: string }) => Promise<unknown>;
  labelSelector?: string;
}

function makeSource<T>(kc: KubeConfig, client: KubeClient, spec: SourceSpec): ListWatchSource<T> {
  const watch = new Watch(kc);
  return {
    resource: spec.resource,
    list: (opts) =>
      client.call('list', spec.resource, async () =>
        page<T>(
          await spec.list({
            limit: opts.limit,
            _continue: opts.continue,
            labelSelector: spec.labelSelector,
          }),
        ),
      ),
    async watch(resourceVersion, onEvent, onDone): Promise<WatchHandle> {
      // The server ends each watch after 5-10 minutes; bookmarks keep the resourceVersion fresh.
      const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
      const controller = await watch.watch(
        spec.path,
        {
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: spec.labelSelector,
        },
        (type, obj) => onEvent(type as WatchEventType, obj),
        onDone,
      );
      return { abort: () => controller.abort() };
    },
  };
}

export interface SourceOptions {
  namespace?: string;
  labelSelector?: string;
}

const nsPath = (ns: string | undefined, group: string, plural: string) =>
  ns ? `${group}/namespaces/${ns}/${plural}` : `${group}/${plural}`;

export function podSource(kc: KubeConfig, client: KubeClient, o: SourceOptions) {
  return makeSource<any>(kc, client, {
    resource: 'pods',
    path: nsPath(o.namespace, '/api/v1', 'pods'),
    labelSelector: o.labelSelector,
    list: (q) =>
      o.namespace
        ? client.core.listNamespacedPod({ namespace: o.namespace, ...q })
        : client.core.listPodForAllNamespaces(q),
  });
}

export function serviceSource(kc: KubeConfig, client: KubeClient, o: SourceOptions) {
  return makeSource<any>(kc, client, {
    resource: 'services',
    path: nsPath(o.namespace, '/api/v1', 'services'),
    labelSelector: o.labelSelector,
    list: (q) =>
      o.namespace
        ? client.core.listNamespacedService({ namespace: o.namespace, ...q })
        : client.core.listServiceForAllNamespaces(q),
  });
}

export function nodeSource(kc: KubeConfig, client: KubeClient) {
  return makeSource<any>(kc, client, {
    resource: 'nodes',
    path: '/api/v1/nodes',
    list: (q) => client.core.listNode(q),
  });
}

export function customSource(kc: KubeConfig, client: KubeClient, ref: CustomResourceRef, o: SourceOptions) {
  return makeSource<any>(kc, client, {
    resource: ref.plural,
    path: nsPath(o.namespace, `/apis/${ref.group}/${ref.version}`, ref.plural),
    labelSelector: o.labelSelector,
    list: (q) =>
      o.namespace
        ? client.custom.listNamespacedCustomObject({ ...ref, namespace: o.namespace, ...q })
        : client.custom.listClusterCustomObject({ ...ref, ...q }),
  });
}
