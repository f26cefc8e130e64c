// app.js — the admin dashboard (super_admin only): the screen registry and
// the shell. The workflows monitor and cross-tenant analytics join this
// list as one module each when their APIs exist.

import { startPortal } from '../shared/shell.js';
import { accountScreen } from '../shared/screens/account.js';
import { auditScreen } from '../shared/screens/audit.js';
import { eventsScreen } from '../shared/screens/events.js';
import { usersScreen } from '../shared/screens/users.js';
import deadLetters from './screens/deadletters.js';
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
    deadLetters,
    auditScreen({ platform: true, nav: 'Security' }),
    accountScreen(),
  ],
});
