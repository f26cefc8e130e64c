// app.js — the admin dashboard (super_admin only): the screen registry and
// the shell. Cross-tenant analytics joins this list as one module when its
// API exists.

import { startPortal } from '../shared/shell.js';
import { accountScreen } from '../shared/screens/account.js';
import { auditScreen } from '../shared/screens/audit.js';
import { eventsScreen } from '../shared/screens/events.js';
import { usersScreen } from '../shared/screens/users.js';
import overview from './screens/overview.js';
import services from './screens/services.js';
import tenants from './screens/tenants.js';

startPortal({
  id: 'admin',
  title: 'Admin dashboard',
  base: '/admin',
  roles: ['super_admin'],
  screens: [
    overview,
    tenants,
    usersScreen({ platform: true, nav: 'Tenants' }),
    services,
    eventsScreen({ platform: true, nav: 'Platform' }),
    {
      // loaded when first opened (see router.js)
      id: 'dead-letters', path: '/events/dead-letters', title: 'Dead letters', nav: 'Platform', roles: ['super_admin'],
      load: () => import('./screens/deadletters.js'),
    },
    {
      id: 'workflows', path: '/workflows', title: 'Workflows', nav: 'Platform', roles: ['super_admin'],
      load: () => import('./screens/workflows.js'),
    },
    auditScreen({ platform: true, nav: 'Security' }),
    accountScreen(),
  ],
});
