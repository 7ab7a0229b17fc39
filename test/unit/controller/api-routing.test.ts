import test from 'ava';
import { apiRoutes } from '../../../controller/api/server.js';
import type { Services } from '../../../controller/api/services.js';
import { ApiRouter } from '../../../controller/api/routing.js';

const answer = async () => undefined;

test('a route that would match the paths of another route of its method is refused when it is registered', (t) => {
  const router = new ApiRouter();
  router.post('/vms/:id/tasks', answer);
  router.get('/vms/:id/:anything', answer);
  const clash = t.throws(() => router.post('/vms/:id/:action', answer));
  t.regex(clash.message, /POST \/vms\/:id\/:action would match the paths of POST \/vms\/:id\/tasks/);
  t.throws(() => router.get('/vms/:other/nics', answer), { message: /GET \/vms\/:id\/:anything/ });
  router.put('/vms/:id', answer);
  router.delete('/vms/:id', answer);
  router.get('/vms/:id/nics/:nic', answer);
  t.deepEqual(
    router.declared().map((route) => `${route.method} ${route.path}`),
    ['post /vms/:id/tasks', 'get /vms/:id/:anything', 'put /vms/:id', 'delete /vms/:id', 'get /vms/:id/nics/:nic'],
  );
});

test("the API's routes match disjoint paths per method, so none depends on the order of registration", (t) => {
  const routes = apiRoutes({} as Services).declared();
  t.true(routes.length > 100, `${routes.length} routes`);
  const objects = routes.filter((route) => route.method === 'put' || route.method === 'delete').map((route) => route.path);
  t.true(objects.includes('/vms/:id/nics/:nic') && objects.includes('/datacenters/:dc/storagedomains/:id'));
});
