// List/watch sources for the informers: the resources the controllers cache.
//
// Each source lists and watches one resource, so it takes the server's JSON as that
// resource's type: the one place where what the API server sends becomes a typed object.
import { Watch, type KubeConfig, type V1Node, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { KObject, ListPage, ListWatchSource, WatchEvent, WatchHandle } from '../runtime/informer.ts';
import type { KubeClient, CustomResourceRef } from './client.ts';
import { projectCustom, projectNode, projectPod, projectService } from './projections.ts';

// Typed list calls return class instances with Date fields; watch events are plain JSON.
// One shape in the cache: plain JSON everywhere (so a cached V1Pod's "Date" fields are strings).
const plain = <T>(o: unknown): T => JSON.parse(JSON.stringify(o)) as T;

/** A list response as both the typed (V1PodList...) and the custom-object calls return it. */
interface ListResponse {
  items?: unknown[];
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
}

function page<T>(list: ListResponse, project: (o: T) => T): ListPage<T> {
  return {
    // Projected first (the typed lists' class instances hold Dates), then made plain JSON.
    items: (list.items ?? []).map((i) => plain<T>(project(i as T))),
    resourceVersion: list.metadata?.resourceVersion ?? '',
    continue: list.metadata?._continue ?? list.metadata?.continue,
  };
}

/** A watch callback's arguments as one event: the object is the resource's (a Status on ERROR), projected. */
function watchEvent<T>(type: string, object: unknown, project: (o: T) => T): WatchEvent<T> {
  const isObject = type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED';
  return { type, object: isObject ? project(object as T) : object } as WatchEvent<T>;
}

interface SourceSpec<T> {
  resource: string;
  /** The collection's URL path, all namespaces or one. */
  path: string;
  list: (opts: { limit: number; _continue?: string; labelSelector?: string }) => Promise<ListResponse>;
  labelSelector?: string;
  /** What the cache keeps of each object (projections.ts). */
  project: (o: T) => T;
}

function makeSource<T extends KObject>(kc: KubeConfig, client: KubeClient, spec: SourceSpec<T>): ListWatchSource<T> {
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
          spec.project,
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
        (type, obj) => onEvent(watchEvent<T>(type, obj, spec.project)),
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

/** A pod source's options: also the annotations the controllers read (the cache keeps no others). */
export interface PodSourceOptions extends SourceOptions {
  annotations: readonly string[];
}

const nsPath = (ns: string | undefined, group: string, plural: string) =>
  ns ? `${group}/namespaces/${ns}/${plural}` : `${group}/${plural}`;

export function podSource(kc: KubeConfig, client: KubeClient, o: PodSourceOptions): ListWatchSource<V1Pod> {
  return makeSource<V1Pod>(kc, client, {
    resource: 'pods',
    path: nsPath(o.namespace, '/api/v1', 'pods'),
    labelSelector: o.labelSelector,
    project: projectPod(o.annotations),
    list: (q) =>
      o.namespace
        ? client.core.listNamespacedPod({ namespace: o.namespace, ...q })
        : client.core.listPodForAllNamespaces(q),
  });
}

export function serviceSource(kc: KubeConfig, client: KubeClient, o: SourceOptions): ListWatchSource<V1Service> {
  return makeSource<V1Service>(kc, client, {
    resource: 'services',
    path: nsPath(o.namespace, '/api/v1', 'services'),
    labelSelector: o.labelSelector,
    project: projectService,
    list: (q) =>
      o.namespace
        ? client.core.listNamespacedService({ namespace: o.namespace, ...q })
        : client.core.listServiceForAllNamespaces(q),
  });
}

export function nodeSource(kc: KubeConfig, client: KubeClient): ListWatchSource<V1Node> {
  return makeSource<V1Node>(kc, client, {
    resource: 'nodes',
    path: '/api/v1/nodes',
    project: projectNode,
    list: (q) => client.core.listNode(q),
  });
}

/** A custom resource's objects, as `T` (the caller names the kind's type: src/kube knows no CRD). */
export function customSource<T extends KObject>(
  kc: KubeConfig,
  client: KubeClient,
  ref: CustomResourceRef,
  o: SourceOptions,
): ListWatchSource<T> {
  return makeSource<T>(kc, client, {
    resource: ref.plural,
    path: nsPath(o.namespace, `/apis/${ref.group}/${ref.version}`, ref.plural),
    labelSelector: o.labelSelector,
    project: projectCustom,
    list: (q) =>
      o.namespace
        ? client.custom.listNamespacedCustomObject({ ...ref, namespace: o.namespace, ...q })
        : client.custom.listClusterCustomObject({ ...ref, ...q }),
  });
}
